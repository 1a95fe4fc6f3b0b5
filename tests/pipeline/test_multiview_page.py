"""The multi-view page's angle curves (pipeline.multiview_page.read_angle_curves), from a
hand-written angles_3d.csv where every value is known."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.multiview_page import moments_of, read_angle_curves

CSV = """frame,time_s,person,angle,degrees,interpolated
2,0.033333,2,trunk,5.54,0
0,0.000000,1,right_knee,10.04,0
1,0.016667,1,right_knee,12.00,0
2,0.033333,1,right_knee,14.00,1
4,0.066667,1,right_knee,18.00,0
5,0.083333,2,trunk,6.00,0
"""


def test_the_curves_hold_every_frame_of_the_scene_with_gaps_as_null(tmp_path: Path) -> None:
    path = tmp_path / "angles_3d.csv"
    path.write_text(CSV)
    curves = read_angle_curves(path, count=5, step=1)
    assert [a["name"] for a in curves["names"]] == ["right_knee", "trunk"]  # ANGLE_NAMES' order
    assert curves["names"][0] == {"name": "right_knee", "label": "Right knee", "zero": "straight leg",
                                  "positive": "flexion"}
    people = {p["person"]: p["degrees"] for p in curves["people"]}
    assert people[1] == {"right_knee": [10.0, 12.0, 14.0, None, 18.0]}
    assert people[2] == {"trunk": [None, None, 5.5, None, None]}  # frame 5 is past the time line's end


def test_a_sampled_scene_keeps_the_frames_it_shows(tmp_path: Path) -> None:
    path = tmp_path / "angles_3d.csv"
    path.write_text(CSV)
    curves = read_angle_curves(path, count=6, step=2)  # scene frames: time-line frames 0, 2, 4
    people = {p["person"]: p["degrees"] for p in curves["people"]}
    assert people[1] == {"right_knee": [10.0, 14.0, 18.0]} and people[2] == {"trunk": [None, 5.5, None]}


def test_no_angles_file_gives_no_curves(tmp_path: Path) -> None:
    assert read_angle_curves(tmp_path / "angles_3d.csv", count=10, step=1) == {"names": [], "people": []}


def test_the_grid_moments_spread_over_the_frames_with_people() -> None:
    someone = {1: np.zeros((18, 3))}
    frames = {f: someone for f in range(10, 110)} | {5: {}, 200: {}}  # 5 and 200: nobody in 3D
    moments = moments_of(frames, best=40, count=5)
    assert moments == [10, 34, 60, 85, 109] and 40 not in moments  # 99 frames without 40, 5 picks
    assert moments_of({3: someone, 7: someone}, best=3) == [7]
    assert moments_of({}, best=None) == []


# write_page_files on a made-up result: three of the demo's real cameras under names a hostile
# calibration could give, short videos whose every frame says its own number (its brightness),
# the third camera started 10 frames late, one person in 3D at the cameras' scene centre.
LATE = 10
FRAMES = 25


def _video(path: Path, frames: int = FRAMES) -> None:
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (96, 160))
    for i in range(frames):
        writer.write(np.full((160, 96, 3), 20 + 9 * i, np.uint8))
    writer.release()


def _result(tmp_path: Path, shared_data: Path, *, people: bool = True) -> tuple[Path, list[Path]]:
    import csv
    import json
    from dataclasses import replace

    from multiview.calibration import read_calibration, write_toml
    from multiview.check import check_calibration
    from pose.skeleton import OPENPOSE_18

    demo = read_calibration(shared_data / "multiview" / "pose2sim_single" / "Calib.qca.txt")[:3]
    centre = check_calibration(demo, ["cam01.mp4", "cam02.mp4", "cam03.mp4"],
                               [c.size for c in demo]).scene_centre
    names, stems = ["../../evil", "cam", "cam_1"], ["evil", "cam", "cam_1"]
    out = tmp_path / "job" / "out"
    out.mkdir(parents=True)
    write_toml(out / "calibration.toml", [replace(c, name=n) for c, n in zip(demo, names)])
    offsets = [0, 0, LATE]
    (out / "multiview.json").write_text(json.dumps({
        "fps": 30.0, "frames": FRAMES + LATE, "part_names": list(OPENPOSE_18.part_names),
        "cameras": [{"name": n, "folder": f"views/{s}", "offset": {"offset_frames": o}}
                    for n, s, o in zip(names, stems, offsets)]}))
    with open(out / "keypoints_3d.csv", "w", newline="") as handle:
        rows = csv.writer(handle)
        rows.writerow(["frame", "time_s", "person", "joint", "x_m", "y_m", "z_m", "reprojection_px", "views",
                       "interpolated"])
        for frame in range(FRAMES + LATE) if people else ():
            for k, joint in enumerate(("neck", "right_hip", "left_hip")):
                x, y, z = centre + np.array([0.01 * frame, 0.1 * k, 1.0 - 0.4 * (k > 0)])
                rows.writerow([frame, frame / 30, 1, joint, x, y, z, 1.0, "a+b", 0])
    videos = [tmp_path / f"{s}.mp4" for s in stems]
    for video in videos:
        _video(video)
    return out, videos


def _frame_number(path: Path) -> int:
    import cv2

    return round((float(np.median(cv2.imread(str(path)))) - 20) / 9)  # +-4 levels: mp4v and YUV round trips


def test_each_camera_is_drawn_at_the_moments_it_filmed_in_files_named_after_its_view(tmp_path, shared_data) -> None:
    from pipeline.multiview_page import write_page_files

    out, videos = _result(tmp_path, shared_data)
    page = write_page_files(out, videos)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.jpg"))
    assert all(name.startswith("job/out/overlays/") for name in written), written  # nothing outside the job
    assert sorted(page["overlays"]) == ["../../evil", "cam", "cam_1"]
    assert page["overlays"]["../../evil"] == "overlays/evil.jpg"
    files = [file for moments in page["moments"].values() for _, file in moments]
    assert len(files) == len(set(files)) == len(written)  # "cam"'s moments never clash with "cam_1"
    best = page["overlay_frame"]
    assert LATE <= best < FRAMES  # a moment every camera filmed
    for camera, offset in (("../../evil", 0), ("cam", 0), ("cam_1", LATE)):
        moments = page["moments"][camera]
        assert [best, page["overlays"][camera]] in moments and len(moments) >= 5
        for frame, file in moments:  # the camera's own frame of that moment, never a stand-in
            assert 0 <= frame - offset < FRAMES
            assert _frame_number(out / file) == frame - offset, (camera, frame, file)
    late = [frame for frame, _ in page["moments"]["cam_1"]]
    early = [frame for frame, _ in page["moments"]["cam"]]
    assert min(early) < LATE <= min(late) and max(late) >= FRAMES  # the late camera films on after the others


def test_a_keypoints_only_result_keeps_no_picture(tmp_path, shared_data) -> None:
    import cv2

    from pipeline.multiview_page import write_page_files

    out, videos = _result(tmp_path, shared_data)
    page = write_page_files(out, videos, pictures=False)
    for moments in page["moments"].values():
        for _, file in moments:
            image = cv2.imread(str(out / file))
            assert np.median(image) == 0 and image.shape[1] == 540  # black, the skeleton drawn on it


def test_nobody_in_3d_still_shows_every_camera(tmp_path, shared_data) -> None:
    from pipeline.multiview_page import write_page_files

    out, videos = _result(tmp_path, shared_data, people=False)
    page = write_page_files(out, videos)
    assert page["overlay_frame"] is None
    assert page["moments"] == {name: [[0, f"overlays/{stem}.jpg"]] for name, stem in
                               (("../../evil", "evil"), ("cam", "cam"), ("cam_1", "cam_1"))}
    assert all(_frame_number(out / file) == 0 for file in page["overlays"].values())


@pytest.mark.parametrize("name", ["...mp4", "..", "../../x.mp4", "a/b.mp4", ".mp4"])
def test_a_view_folder_is_one_safe_name_whatever_the_video_is_called(name) -> None:
    from pipeline.multiview import _stem

    stem = _stem(name, [])
    assert stem and "/" not in stem and "." not in stem
    assert _stem(name, [stem]) != stem

"""No joint angle outside its documented range (-180, 180] on any clip of ../shared/data/videos:
the real model (a small network, the first half second of each clip, as pass 1 runs it), then
write_people_exports; every joint angle in angles.csv, smoothed and as detected, is checked.
(The whole clips, run once while developing, gave -179.93 .. 179.95 at most: docs/angles.md.)"""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from real_final_rows import final_rows_from_video
from pipeline.people_exports import write_people_exports

pytestmark = pytest.mark.model
CLIPS = ("vtest.avi", "openpose_examples_media_video.avi", "mmaction2_demo_skeleton.mp4",
         "mmaction2_test_video_structuralize.mp4", "mmtracking_demo.mp4", "mmpose_demo.mp4", "sports2d_demo.mp4",
         "pose2sim_trial1_cam01.mp4")


@pytest.mark.parametrize("clip", CLIPS)
def test_joint_angles_stay_in_range(clip: str, videos_dir: Path, model_path: Path, tmp_path: Path) -> None:
    from videoio import probe

    info = probe(videos_dir / clip)
    final, fps = final_rows_from_video(videos_dir / clip, model_path, tmp_path, end_s=0.5 if info.fps > 4 else 2.0,
                                       net_height=184)
    write_people_exports(final.rows, fps=fps, video={"width": info.width, "height": info.height}, out_dir=tmp_path)
    with open(tmp_path / "angles.csv", newline="", encoding="utf-8") as f:
        joints = [row for row in csv.DictReader(f) if row["angle"].endswith(("knee", "hip", "shoulder", "elbow"))]
    values = [float(row[k]) for row in joints for k in ("degrees", "degrees_raw") if row[k]]
    assert all(-180.0 < v <= 180.0 for v in values), (min(values), max(values))
    assert {row["facing"] for row in joints} <= {"left", "right", "frontal", "back"}

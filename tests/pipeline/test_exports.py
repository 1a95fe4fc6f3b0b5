"""The four keypoint exports, written frame by frame, read back with the tools people use."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

from pose.skeleton import COCO17_NAMES, PART_NAMES, Person
from pipeline.exports import CSV_COLUMNS, EXPORT_FILE_NAMES, ExportWriters, FramePerson


def person(x: float, score: float, missing: tuple[int, ...] = ()) -> Person:
    kp = np.zeros((18, 3), np.float32)
    kp[:, 0] = x + np.arange(18)
    kp[:, 1] = 100 + 5 * np.arange(18)
    kp[:, 2] = 0.5
    kp[list(missing), :] = 0
    return Person(keypoints=kp, score=score)


@pytest.fixture()
def exported(tmp_path: Path) -> Path:
    frames = [
        (0, 0.0, [FramePerson(person(10, 2.0), (5, 90, 40, 200), None)]),
        (2, 0.2, []),
        (4, 0.4, [FramePerson(person(10, 2.5, missing=(1, 3)), (6, 91, 41, 201), 1, (6.5, 91, 41, 200)),
                  FramePerson(person(300, 1.0), (295, 90, 330, 200), None)]),
    ]
    writers = ExportWriters(tmp_path, video_stem="clip", header={"video": {"source": "clip.mp4"}})
    for index, time_s, people in frames:
        writers.write_frame(index, time_s, people)
    writers.close({"elapsed_s": 1.5})
    return tmp_path


def test_keypoints_json_is_valid_coco_results_with_header_and_summary(exported: Path) -> None:
    doc = json.loads((exported / "keypoints.json").read_text())
    assert doc["video"] == {"source": "clip.mp4"}
    assert doc["categories"][0]["keypoints"] == list(COCO17_NAMES)
    assert doc["summary"] == {"frames_processed": 3, "elapsed_s": 1.5, "annotation_count": 3}
    anns = doc["annotations"]
    assert [(a["image_id"], a["track_id"]) for a in anns] == [(0, None), (4, 1), (4, None)]
    assert all(len(a["keypoints"]) == 51 and a["category_id"] == 1 for a in anns)
    assert anns[1]["bbox"] == [6, 91, 35, 110] and anns[1]["time_s"] == 0.4
    # Right elbow (OpenPose 3) is COCO index 8; missing -> 0, 0, 0.
    assert anns[1]["keypoints"][8 * 3: 8 * 3 + 3] == [0, 0, 0]
    # pycocotools accepts the annotations as a results file.
    from pycocotools.coco import COCO
    gt = COCO()
    gt.dataset = {"images": [{"id": i} for i in (0, 4)], "categories": doc["categories"], "annotations": []}
    gt.createIndex()
    assert len(gt.loadRes(anns).getAnnIds()) == 3


def test_csv_is_tidy_one_row_per_visible_joint(exported: Path) -> None:
    with open(exported / "keypoints.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert len(rows) == 18 + 16 + 18  # every part of the skeleton; person 2 lost neck and right elbow
    tracked = [r for r in rows if r["track_id"] == "1"]
    assert {r["frame"] for r in tracked} == {"4"} and len(tracked) == 16
    assert {r["joint"] for r in rows} == set(PART_NAMES)
    assert {(r["world_x"], r["world_y"], r["world_z"]) for r in rows} == {("", "", "")}  # 2D skeleton
    assert {(r["frame"], r["person"]) for r in rows if r["track_id"] == ""} == {("0", "0"), ("4", "1")}


def test_openpose_zip_has_one_document_per_frame(exported: Path) -> None:
    with zipfile.ZipFile(exported / "openpose_json.zip") as zf:
        names = zf.namelist()
        assert names == [f"clip_{i:012d}_keypoints.json" for i in (0, 2, 4)]
        doc = json.loads(zf.read(names[2]))
    assert doc["version"] == 1.3
    assert [p["person_id"] for p in doc["people"]] == [[1], [-1]]
    assert len(doc["people"][0]["pose_keypoints_2d"]) == 54


def test_mot_rows_are_confirmed_tracks_with_one_based_frames(exported: Path) -> None:
    lines = (exported / "tracks_mot.txt").read_text().splitlines()
    assert lines == ["5,1,6.50,91.00,34.50,109.00,2.5000,-1,-1,-1"]
    assert set(EXPORT_FILE_NAMES) <= {p.name for p in exported.iterdir()}


@pytest.mark.parametrize("stem", ["..\\..\\evil", "../up", "a:b*c?"])
def test_openpose_zip_entries_stay_inside_the_folder_whatever_the_video_name(tmp_path: Path, stem: str) -> None:
    from pipeline.exports import OpenPoseZipWriter

    writer = OpenPoseZipWriter(tmp_path / "openpose_json.zip", video_stem=stem)
    writer.write(0, [])
    writer.close()
    (name,) = zipfile.ZipFile(tmp_path / "openpose_json.zip").namelist()
    assert name.endswith("_000000000000_keypoints.json")
    assert not any(c in name for c in "\\/:*?") and not name.startswith("."), name


UNZIP = shutil.which("unzip")


@pytest.mark.parametrize("name", ["a" * 300, "é" * 300, "😀" * 300, "日本" * 150, "𠀀" * 300, "x y." * 100],
                         ids=["ascii", "2-byte", "emoji", "3-byte", "4-byte-letter", "dots"])
def test_openpose_zip_extracts_whatever_the_length_of_the_video_name(tmp_path: Path, name: str) -> None:
    # A file name may be 255 bytes of UTF-8 (ext4, XFS, btrfs): 300 characters of 'é' are 600.
    from pipeline.exports import OpenPoseZipWriter

    writer = OpenPoseZipWriter(tmp_path / "openpose_json.zip", video_stem=name)
    for frame in (0, 4):
        writer.write(frame, [FramePerson(person(10, 2.0), (5, 90, 40, 200), 1)])
    writer.close()
    with zipfile.ZipFile(tmp_path / "openpose_json.zip") as archive:
        names = archive.namelist()
        assert all(n.endswith(f"_{i:012d}_keypoints.json") for n, i in zip(names, (0, 4))), names
        assert all(len(n.encode()) <= 255 for n in names)
        assert len({n.split("_000")[0] for n in names}) == 1  # one stem for every frame
        archive.extractall(tmp_path / "zipfile")
    assert sorted(p.name for p in (tmp_path / "zipfile").iterdir()) == sorted(names)
    if UNZIP is None:
        pytest.skip("unzip is not installed: run `make test-setup` (apt-get install unzip)")
    done = subprocess.run([UNZIP, "-q", str(tmp_path / "openpose_json.zip"), "-d", str(tmp_path / "unzip")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "unzip").iterdir())) == 2


def test_filled_and_smoothed_people_keep_their_raw_keypoints_and_flags(tmp_path: Path) -> None:
    """A smoothed person carries what was detected beside it; a filled frame says so in the JSON
    and per joint in the CSV (raw columns empty where nothing was detected)."""
    smoothed = person(12, 2.0)
    raw = person(10, 2.0).keypoints.copy()
    filled_joints = np.zeros(18, dtype=bool)
    filled_joints[[0, 5]] = True  # nose (COCO 0) and left shoulder (COCO 5) were filled in
    raw[filled_joints] = 0.0
    writers = ExportWriters(tmp_path, video_stem="clip", header={})
    writers.write_frame(0, 0.0, [FramePerson(smoothed, (5, 90, 40, 200), 1, (5, 90, 40, 200), raw=raw,
                                             joint_interpolated=filled_joints)])
    gap = FramePerson(smoothed, (5, 90, 40, 200), 1, (5, 90, 40, 200), raw=np.zeros((18, 3)),
                      interpolated=True, joint_interpolated=np.ones(18, dtype=bool))
    writers.write_frame(1, 0.1, [gap])
    writers.close()
    anns = json.loads((tmp_path / "keypoints.json").read_text())["annotations"]
    assert [a["interpolated"] for a in anns] == [False, True]
    assert anns[0]["keypoints"][:2] == [12.0, 100.0] and anns[0]["keypoints_raw"][:3] == [0, 0, 0]
    assert anns[0]["keypoints_raw"][3:5] == [10 + 15, 100 + 5 * 15]  # left eye (OpenPose 15), raw
    assert set(anns[1]["keypoints_raw"]) == {0}
    with open(tmp_path / "keypoints.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    first = {r["joint"]: r for r in rows if r["frame"] == "0"}
    assert (first["nose"]["x"], first["nose"]["x_raw"], first["nose"]["interpolated"]) == ("12.00", "", "1")
    assert (first["left_eye"]["x"], first["left_eye"]["x_raw"], first["left_eye"]["interpolated"]) == (
        "27.00", "25.00", "0")
    assert {r["interpolated"] for r in rows if r["frame"] == "1"} == {"1"}


def test_a_33_part_skeleton_with_world_exports_every_part_and_no_openpose_json(tmp_path: Path) -> None:
    """BlazePose: the CSV has a row per visible part of 33 with world columns, keypoints.json the
    33 parts, their world coordinates and the COCO-17 view; no OpenPose JSON, and the file says why."""
    from pose.skeleton import BLAZEPOSE_33
    from pipeline.exports import export_file_names

    kp = np.zeros((33, 3), np.float32)
    kp[:, 0], kp[:, 1], kp[:, 2] = 100 + np.arange(33), 200 + np.arange(33), 0.7
    kp[3] = 0  # left_eye_outer not seen
    world = np.tile(np.array([0.1, -0.5, 0.2], np.float32), (33, 1))
    seen = FramePerson(Person(keypoints=kp, score=0.9, world=world), (90, 150, 150, 260), 1, (90, 150, 150, 260))
    filled = FramePerson(Person(keypoints=kp, score=0.9, world=np.full((33, 3), np.nan, np.float32)),
                         (90, 150, 150, 260), 1, (90, 150, 150, 260), raw=np.zeros((33, 3)), interpolated=True)
    writers = ExportWriters(tmp_path, video_stem="clip", header={}, skeleton=BLAZEPOSE_33)
    writers.write_frame(0, 0.0, [seen])
    writers.write_frame(1, 0.1, [filled])
    writers.close()
    assert writers.files == export_file_names(BLAZEPOSE_33) and "openpose_json.zip" not in writers.files
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(writers.files)
    doc = json.loads((tmp_path / "keypoints.json").read_text())
    assert doc["skeleton"]["name"] == "blazepose33" and len(doc["skeleton"]["parts"]) == 33
    assert "openpose_json.zip" in doc["exports"]["not_produced"]
    first, gap = doc["annotations"]
    assert len(first["parts"]) == 99 and first["world"][:3] == [0.1, -0.5, 0.2] and gap["world"] is None
    assert first["keypoints"][5 * 3: 5 * 3 + 3] == [111.0, 211.0, 0.7]  # COCO left shoulder = BlazePose 11
    with open(tmp_path / "keypoints.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    frame0 = [r for r in rows if r["frame"] == "0"]
    assert len(frame0) == 32 and "left_heel" in {r["joint"] for r in frame0}
    assert (frame0[0]["world_x"], frame0[0]["world_y"], frame0[0]["world_z"]) == ("0.1000", "-0.5000", "0.2000")
    assert {r["world_x"] for r in rows if r["frame"] == "1"} == {""}

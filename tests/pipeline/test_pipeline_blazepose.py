"""The whole pipeline with the BlazePose model on a real clip: one tracked person with 33 parts,
world coordinates in the exports, the ankle and foot angles, and no OpenPose JSON (said why)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pipeline.video import PipelineOptions, process_video

CLIP = "pose2sim_trial1_cam01.mp4"  # 1080x1920 portrait, 60 fps, one subject


@pytest.fixture(scope="module")
def blaze_job(blazepose_estimator_factory, videos_dir: Path, tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("blaze") / "out"
    options = PipelineOptions(model="blazepose", end_s=0.5, screenshot_interval_s=0.25)
    result = process_video(videos_dir / CLIP, out, options, backend=blazepose_estimator_factory())
    return out, result


def test_one_person_is_tracked_with_33_parts_and_world_metres(blaze_job) -> None:
    out, result = blaze_job
    assert result.frames_processed == 30 and result.tracks == 1
    assert "openpose_json.zip" not in result.files and not (out / "openpose_json.zip").exists()
    assert {"annotated.mp4", "keypoints.json", "keypoints.csv", "tracks_mot.txt"} <= set(result.files)
    doc = json.loads((out / "keypoints.json").read_text())
    assert doc["model"]["id"] == "blazepose" and doc["skeleton"]["name"] == "blazepose33"
    assert "openpose_json.zip" in doc["exports"]["not_produced"]
    anns = doc["annotations"]
    assert len(anns) >= 27 and {a["track_id"] for a in anns} == {1}
    seen = [a for a in anns if not a["interpolated"]]
    assert all(len(a["parts"]) == 99 and len(a["world"]) == 99 and len(a["keypoints"]) == 51 for a in seen)
    with open(out / "keypoints.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["joint"] for r in rows} >= {"left_heel", "right_foot_index", "left_index"}
    assert all(r["world_x"] != "" for r in rows if r["interpolated"] == "0")


def test_blazepose_people_get_the_foot_angles_and_the_page_data_says_3d(blaze_job) -> None:
    out, _ = blaze_job
    people = json.loads((out / "people.json").read_text())
    assert people["skeleton"] == {"name": "blazepose33", "has_world": True} and len(people["parts"]) == 33
    names = {a["name"] for a in people["angles"]}
    assert {"right_knee", "left_hip", "right_ankle", "left_foot", "right_wrist", "trunk"} <= names
    assert people["unavailable"] == {}
    series = json.loads((out / "people" / "person_1.json").read_text())
    knee = [v for v in series["angles"]["right_knee"]["smoothed"] if v is not None]
    ankle = [v for v in series["angles"]["right_ankle"]["smoothed"] if v is not None]
    assert len(knee) >= 25 and len(ankle) >= 25
    # Knee: a person walking (flexion mostly 0-70). Ankle: Sports2D's definition; this camera sees the
    # feet pointing towards it, so they look steep in the image, but the values stay in range.
    assert all(-30 < v < 170 for v in knee) and all(-180 <= v < 180 for v in ankle)
    world = series.get("world")
    assert world is not None and len(world) == len(series["time_s"]) and len(world[0]) == 33 * 3

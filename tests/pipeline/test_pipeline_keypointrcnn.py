"""The whole pipeline with Keypoint R-CNN (random weights: torchvision's trained ones are not
here) on a real clip: people with COCO's 17 keypoints are tracked like any model's, exported with
the coco17 skeleton, and get the angles that skeleton allows. Skipped, saying why, where torch
and a matching torchvision are not installed."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.video import PipelineOptions, process_video


def test_a_keypointrcnn_job_exports_the_coco17_skeleton_and_its_angles(videos_dir: Path, tmp_path: Path) -> None:
    try:
        from pose.keypointrcnn import KeypointRcnnEstimator

        estimator = KeypointRcnnEstimator(None, box_score_threshold=0.0, min_size=160, max_size=256,
                                          max_detections=2)
    except Exception as exc:  # noqa: BLE001 - BackendUnavailableError without torch/torchvision
        if type(exc).__name__ != "BackendUnavailableError":
            raise
        pytest.skip(str(exc))
    options = PipelineOptions(model="keypointrcnn", end_s=0.5, min_hits=1, screenshot_interval_s=0)
    result = process_video(videos_dir / "vtest.avi", tmp_path / "out", options, backend=estimator)
    out = result.out_dir
    doc = json.loads((out / "keypoints.json").read_text())
    assert doc["model"]["id"] == "keypointrcnn" and doc["skeleton"]["name"] == "coco17"
    assert result.frames_processed == 5 and result.detections >= 5
    assert all(len(a["keypoints"]) == 51 for a in doc["annotations"])
    people = json.loads((out / "people.json").read_text())
    names = {a["name"] for a in people["angles"]}
    assert {"right_knee", "left_elbow", "trunk", "head"} <= names and "right_ankle" not in names
    assert result.tracks >= 1 and (out / "people" / "person_1.json").is_file()

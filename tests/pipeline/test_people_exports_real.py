"""Angles of real people: the real model on the single-person clips of ../shared/data/videos,
tracked and finalized as pass 1 will (tests/real_final_rows.py), then write_people_exports.

What the clips show (frames looked at): pose2sim_trial1_cam01 (60 fps, 1.7 s): a man walks
towards the camera on a walkway and swings his right arm up over his head, a woman stands in
the back; sports2d_demo (30 fps, 7.7 s): a man does jumping jacks facing the camera and turns
away, a woman walks right to left in profile (knees from nearly straight in stance to about 60
degrees in swing), a man starts a sprint from a crouch (knees past 100 degrees).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from real_final_rows import final_rows_from_video
from pipeline.people_exports import write_people_exports

pytestmark = pytest.mark.model
#: Neighbouring frames' smoothed elbow and knee angles never differ by more than this.
MAX_STEP_DEG = 60.0


def people_of(clip: str, videos_dir: Path, model_path: Path, tmp_path: Path) -> list[dict]:
    from videoio import probe

    info = probe(videos_dir / clip)
    final, fps = final_rows_from_video(videos_dir / clip, model_path, tmp_path)
    out = tmp_path / "out"
    write_people_exports(final.rows, fps=fps, video={"width": info.width, "height": info.height}, out_dir=out)
    people = json.loads((out / "people.json").read_text())["people"]
    for person in people:
        person["series"] = json.loads((out / person["files"]["series"]).read_text())
    return people


def values(person: dict, angle: str, kind: str = "smoothed") -> np.ndarray:
    return np.array([np.nan if v is None else v for v in person["series"]["angles"][angle][kind]], float)


def assert_continuous(person: dict) -> None:
    facing = np.array(person["series"]["facing"])
    turned = np.concatenate([[False], facing[1:] != facing[:-1]])  # the convention mirrors there
    for side in ("right", "left"):
        for joint in ("knee", "elbow"):
            steps = np.abs(np.diff(values(person, f"{side}_{joint}")))
            steps = np.minimum(steps, 360.0 - steps)  # a joint angle wraps at +-180 (docs/angles.md)
            steps = steps[~turned[1:] & np.isfinite(steps)]
            assert len(steps) and steps.max() <= MAX_STEP_DEG, (person["id"], side, joint, steps.max())


def assert_in_range(person: dict) -> None:
    """Every joint angle, smoothed and as detected, within (-180, 180]."""
    for name, series in person["series"]["angles"].items():
        if name.endswith(("knee", "hip", "shoulder", "elbow")):
            for kind in ("smoothed", "raw"):
                v = values(person, name, kind)
                v = v[np.isfinite(v)]
                assert np.all((v > -180) & (v <= 180)), (person["id"], name, kind, v.min(), v.max())


def test_pose2sim_walker(videos_dir: Path, model_path: Path, tmp_path: Path) -> None:
    people = people_of("pose2sim_trial1_cam01.mp4", videos_dir, model_path, tmp_path)
    walker = max(people, key=lambda p: (p["frames"], p["angles"]["right_knee"]["range"] or 0))
    assert walker["frames"] == 100
    # He faces the camera (three-quarter, turned towards the image's right) in every frame.
    assert walker["facing"]["frontal"] == 100
    for person in people:
        assert_in_range(person)
    for person in people:
        if person["frames"] >= 60:
            assert_continuous(person)
    # walking towards the camera: the knees bend little as the camera sees them
    for side in ("right", "left"):
        knee = values(walker, f"{side}_knee")
        assert -20 < np.nanmin(knee) and np.nanmax(knee) < 45 and np.isfinite(knee).all()


def test_sports2d_demo_walker_and_sprinter(videos_dir: Path, model_path: Path, tmp_path: Path) -> None:
    people = people_of("sports2d_demo.mp4", videos_dir, model_path, tmp_path)
    for person in people:
        if person["frames"] >= 30:
            assert_continuous(person)
    # The man doing jumping jacks faces the camera for frames 0-99: not mirrored there (he
    # turns to the image's right and walks off later); the woman walks left in profile throughout.
    jumper = next(p for p in people if p["first_frame"] == 0 and p["frames"] >= 100)
    facing = jumper["series"]["facing"]
    assert facing[:100] == ["frontal"] * 100, facing[:100]
    # Two jumping jacks (counted by eye on frames 0-99: arms down, overhead, down, twice), on a
    # shoulder, the largest periodic range.
    assert jumper["reps"]["count"] == 2 and jumper["reps"]["angle"] in ("right_shoulder", "left_shoulder")
    walker = max(people, key=lambda p: p["facing"]["left"])
    assert walker["frames"] >= 120 and walker["facing"]["left"] == walker["frames"]  # she walks to the left
    for person in people:
        assert_in_range(person)
    for side in ("right", "left"):
        knee = values(walker, f"{side}_knee")
        assert np.nanpercentile(knee, 5) < 15 and 45 < np.nanpercentile(knee, 95) < 80, side
    sprinter = max((p for p in people if p["frames"] >= 30), key=lambda p: p["first_s"])
    assert sprinter["frames"] >= 30 and sprinter["facing"]["left"] == 0 and sprinter["facing"]["right"] >= 30
    assert min(sprinter["angles"]["right_knee"]["max"], sprinter["angles"]["left_knee"]["max"]) > 90

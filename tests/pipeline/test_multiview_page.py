"""The multi-view page's angle curves (pipeline.multiview_page.read_angle_curves), from a
hand-written angles_3d.csv where every value is known."""
from __future__ import annotations

from pathlib import Path

import numpy as np

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

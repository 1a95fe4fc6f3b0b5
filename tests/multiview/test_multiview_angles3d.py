"""3D joint angles (multiview.angles3d) on skeletons built with known angles."""
from __future__ import annotations

import numpy as np
import pytest

from multiview.angles3d import compute_angles_3d
from synthetic_scene import PARTS, TEMPLATE

I = {n: i for i, n in enumerate(PARTS)}


def _rotate(v: np.ndarray, axis: np.ndarray, degrees: float) -> np.ndarray:
    import cv2

    R = cv2.Rodrigues(np.radians(degrees) * axis / np.linalg.norm(axis))[0]
    return R @ v


def _angles(points: np.ndarray) -> dict[str, float]:
    names, values = compute_angles_3d(points[None], PARTS)
    return dict(zip(names, values[0]))


def test_standing_straight_is_zero_everywhere() -> None:
    straight = TEMPLATE.copy()
    for side in ("right", "left"):
        for a, b, c in (("hip", "knee", "ankle"), ("shoulder", "elbow", "wrist")):
            top = straight[I[f"{side}_{a}"]]
            down = np.array([0.0, 0.0, -1.0])
            straight[I[f"{side}_{b}"]] = top + 0.4 * down
            straight[I[f"{side}_{c}"]] = top + 0.8 * down
    angles = _angles(straight)
    for name, value in angles.items():
        assert value == pytest.approx(0.0, abs=1e-6), name


@pytest.mark.parametrize("bend", [30.0, 90.0, 120.0])
def test_knee_and_elbow_are_true_3d_angles_whatever_the_plane(bend: float) -> None:
    points = TEMPLATE.copy()
    # the shank turned by `bend` about an oblique axis through the knee: not in any body plane
    axis = np.array([0.3, 1.0, 0.2])
    axis -= axis @ np.array([0, 0, 1.0]) * np.array([0, 0, 1.0])
    knee = points[I["right_knee"]] = points[I["right_hip"]] + np.array([0, 0, -0.43])
    points[I["right_ankle"]] = knee + _rotate(np.array([0, 0, -0.44]), axis, bend)
    elbow = points[I["left_elbow"]]
    points[I["left_wrist"]] = elbow + _rotate(np.array([0, 0, -0.25]), np.array([0.0, 1.0, 0.0]), -bend)
    points[I["left_shoulder"]] = elbow + np.array([0, 0, 0.28])
    angles = _angles(points)
    assert angles["right_knee"] == pytest.approx(bend, abs=0.5)
    assert angles["left_elbow"] == pytest.approx(bend, abs=0.5)


def test_hip_and_shoulder_flexion_are_read_in_the_sagittal_plane() -> None:
    points = TEMPLATE.copy()  # faces +x: forward is +x
    hip = points[I["left_hip"]]
    points[I["left_knee"]] = hip + np.array([0.42, 0.05, 0.0])  # thigh forward, horizontal, a little out
    shoulder = points[I["right_shoulder"]]
    points[I["right_elbow"]] = shoulder + np.array([-0.2, 0.0, -0.2])  # arm 45 degrees backwards
    angles = _angles(points)
    assert angles["left_hip"] == pytest.approx(90.0, abs=0.5)
    assert angles["right_shoulder"] == pytest.approx(-45.0, abs=0.5)


def test_trunk_is_its_tilt_from_the_vertical_and_missing_parts_give_nan() -> None:
    points = TEMPLATE.copy()
    mid_hip = (points[I["right_hip"]] + points[I["left_hip"]]) / 2
    points[I["neck"]] = mid_hip + _rotate(points[I["neck"]] - mid_hip, np.array([0.0, 1.0, 0.0]), 20.0)
    points[I["right_wrist"]] = np.nan
    angles = _angles(points)
    assert angles["trunk"] == pytest.approx(20.0, abs=0.5)
    assert np.isnan(angles["right_elbow"])

"""The per-frame arithmetic against Sports2D's published definitions, where both mirror alike.

``sports2d_angles`` below restates, for OpenPose-18's points, what Sports2D (0.8, with Pose2Sim's
``angle_dict``) computes in 2D: ``points_to_angles`` (two points: the segment against the
horizontal; three: the angle at the middle point; four: between two segments, as
``atan2(u) - atan2(v)`` on image coordinates), then ``fixed_angles`` (``(angle + offset) *
scale``, wrapped into [-180, 180), or [-90, 90) for the pelvis and shoulder lines), with x negated
for a person facing left. Sports2D's Hip is the hips' midpoint and its Head a point above the ears
that OpenPose-18 lacks (the head angle is left out here).

On many random poses, facing either way, every joint angle agrees with Pose Studio's to 1e-6
degrees, except that Pose Studio gives +180 where Sports2D gives -180 (its range is (-180, 180]);
segment angles agree modulo a whole period (Pose Studio unwraps them over time).
"""
from __future__ import annotations

import numpy as np
import pytest

from analysis import compute_angles
from pose.skeleton import PART_NAMES
from skeleton_poses import P, side_view

#: Pose2Sim's angle_dict entries for the points OpenPose-18 has: points, offset, scale.
ANGLE_DICT = {
    "right_knee": (("right_ankle", "right_knee", "right_hip"), -180, 1),
    "left_knee": (("left_ankle", "left_knee", "left_hip"), -180, 1),
    "right_hip": (("right_knee", "right_hip", "Hip", "neck"), 0, -1),
    "left_hip": (("left_knee", "left_hip", "Hip", "neck"), 0, -1),
    "right_shoulder": (("right_elbow", "right_shoulder", "Hip", "neck"), 0, -1),
    "left_shoulder": (("left_elbow", "left_shoulder", "Hip", "neck"), 0, -1),
    "right_elbow": (("right_wrist", "right_elbow", "right_shoulder"), 180, -1),
    "left_elbow": (("left_wrist", "left_elbow", "left_shoulder"), 180, -1),
    "right_shank": (("right_ankle", "right_knee"), 0, -1),
    "left_shank": (("left_ankle", "left_knee"), 0, -1),
    "right_thigh": (("right_knee", "right_hip"), 0, -1),
    "left_thigh": (("left_knee", "left_hip"), 0, -1),
    "pelvis": (("left_hip", "right_hip"), 0, -1),
    "trunk": (("neck", "Hip"), 0, -1),
    "shoulders": (("left_shoulder", "right_shoulder"), 0, -1),
    "right_arm": (("right_elbow", "right_shoulder"), 0, -1),
    "left_arm": (("left_elbow", "left_shoulder"), 0, -1),
    "right_forearm": (("right_wrist", "right_elbow"), 0, -1),
    "left_forearm": (("left_wrist", "left_elbow"), 0, -1),
}
#: Sports2D flips x for a person facing left, except for these (measured as the image shows them).
NOT_FLIPPED = {"pelvis", "trunk", "shoulders"}


def sports2d_angle(name: str, keypoints: np.ndarray, facing: int) -> float:
    points, offset, scale = ANGLE_DICT[name]
    xy = {part: keypoints[P[part], :2].astype(np.float64) for part in PART_NAMES}
    xy["Hip"] = (xy["right_hip"] + xy["left_hip"]) / 2
    coords = [xy[p] * ([facing, 1] if name not in NOT_FLIPPED else [1, 1]) for p in points]
    if len(coords) == 2:
        u, v = coords[0] - coords[1], np.array([1.0, 0.0])
    elif len(coords) == 3:
        u, v = coords[0] - coords[1], coords[2] - coords[1]
    else:
        u, v = coords[1] - coords[0], coords[3] - coords[2]
    angle = np.degrees(np.arctan2(u[1], u[0]) - np.arctan2(v[1], v[0]))
    angle = (angle + offset) * scale
    half = 90.0 if name in ("pelvis", "shoulders") else 180.0
    return (angle + half) % (2 * half) - half


def random_poses(count: int, seed: int) -> list[tuple[np.ndarray, int]]:
    rng = np.random.default_rng(seed)
    poses = []
    for _ in range(count):
        facing = int(rng.choice([-1, 1]))
        kp = side_view(knee=rng.uniform(-20, 160), hip=rng.uniform(-40, 130), shoulder=rng.uniform(-60, 200),
                       elbow=rng.uniform(-10, 170), trunk=rng.uniform(60, 120), facing=facing,
                       left={"knee": rng.uniform(-20, 160), "hip": rng.uniform(-40, 130),
                             "shoulder": rng.uniform(-60, 200), "elbow": rng.uniform(-10, 170)},
                       far_side_dx=rng.uniform(-15, 15))
        kp[:, :2] += rng.normal(0, 2.0, (18, 2))  # detector noise
        poses.append((kp, facing))
    return poses


@pytest.mark.parametrize("seed", [0, 1])
def test_every_angle_matches_sports2d_frame_by_frame(seed: int) -> None:
    poses = random_poses(200, seed)
    names = list(ANGLE_DICT)
    for kp, facing in poses:
        ours = compute_angles(kp[None], PART_NAMES, names=names, facing=np.array([facing]), foreshortened=0.0)
        for name in names:
            theirs = sports2d_angle(name, kp, facing)
            value = ours[name][0]
            period = 180.0 if name in ("pelvis", "shoulders") else 360.0
            difference = (value - theirs + period / 2) % period - period / 2
            assert abs(difference) < 1e-6, (name, facing, value, theirs)
            if name.endswith(("knee", "hip", "shoulder", "elbow")):
                assert -180.0 < value <= 180.0
                assert abs(value - theirs) < 1e-6 or (value == pytest.approx(180.0) and theirs == pytest.approx(-180.0))

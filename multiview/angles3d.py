"""Joint angles of a 3D skeleton, measured in space and in the body's own planes.

Input: ``points`` float ``(F, K, 3)`` metres in the calibration's world frame, **Z up** (the
convention of Pose2Sim's and Qualisys' calibrations), NaN where a part is missing; ``part_names``
naming the K parts. Output: degrees ``(F, A)``, NaN where a part the angle needs is missing.

The body's frame, per frame: up = mid-hip -> neck; lateral = right hip -> left hip, made
perpendicular to up; forward = lateral x up (the way the chest faces). The sagittal plane is
spanned by up and forward.

==============  =========================================  =====================================
angle           how                                        zero; positive
==============  =========================================  =====================================
knee            180 - the 3D angle hip-knee-ankle          straight leg; flexion
elbow           180 - the 3D angle shoulder-elbow-wrist    straight arm; flexion
hip             thigh (hip -> knee) in the sagittal        thigh along the trunk (down); flexion
                plane, from "down" towards forward         (forward), negative = extension
shoulder        arm (shoulder -> elbow) in the sagittal    arm hanging; flexion (forward and up),
                plane, from "down" towards forward         negative = extension
trunk           the trunk (mid-hip -> neck) from the       upright; leaning, any direction
                world's vertical (+Z)
==============  =========================================  =====================================

Knee and elbow are true 3D angles between the two segments, whatever the plane of the motion;
hip and shoulder are the Sports2D conventions (:mod:`analysis.angles`) in the sagittal plane
instead of the image's.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

ANGLE_NAMES = ("right_knee", "left_knee", "right_hip", "left_hip", "right_shoulder", "left_shoulder",
               "right_elbow", "left_elbow", "trunk")
WORLD_UP = np.array([0.0, 0.0, 1.0])
#: Per joint: what 0 degrees is, and what a positive value means (the table above).
MEANINGS = {"knee": ("straight leg", "flexion"), "elbow": ("straight arm", "flexion"),
            "hip": ("thigh along the trunk", "flexion (forward); negative: extension"),
            "shoulder": ("arm hanging", "flexion (forward and up); negative: extension"),
            "trunk": ("upright", "leaning, in any direction")}


def describe(name: str) -> dict[str, str]:
    """``{"name", "label", "zero", "positive"}`` of an angle ("right_knee": label "Right knee");
    ``zero`` and ``positive`` are empty for a name not of :data:`ANGLE_NAMES`' joints."""
    joint = name.rpartition("_")[2]
    zero, positive = MEANINGS.get(joint, ("", ""))
    return {"name": name, "label": name.replace("_", " ").capitalize(), "zero": zero, "positive": positive}


def _unit(v: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    cos = np.sum(_unit(a) * _unit(b), axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def body_frame(points: np.ndarray, index: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(up, lateral, forward)`` unit vectors ``(F, 3)`` each (NaN where undefined)."""
    mid_hip = (points[:, index["right_hip"]] + points[:, index["left_hip"]]) / 2
    up = _unit(points[:, index["neck"]] - mid_hip)
    across = points[:, index["left_hip"]] - points[:, index["right_hip"]]
    lateral = _unit(across - np.sum(across * up, axis=1, keepdims=True) * up)
    forward = np.cross(lateral, up)
    return up, lateral, forward


def compute_angles_3d(points: np.ndarray, part_names: Sequence[str]) -> tuple[tuple[str, ...], np.ndarray]:
    """``(names, degrees (F, A))`` for the angles of :data:`ANGLE_NAMES` the parts allow."""
    points = np.asarray(points, dtype=np.float64)
    index = {n: i for i, n in enumerate(part_names)}
    names, columns = [], []
    frame = None
    if all(n in index for n in ("neck", "right_hip", "left_hip")):
        frame = body_frame(points, index)
    for name in ANGLE_NAMES:
        side, _, joint = name.partition("_")
        p = lambda part: points[:, index[f"{side}_{part}"]]  # noqa: E731
        if joint == "knee" and all(f"{side}_{q}" in index for q in ("hip", "knee", "ankle")):
            values = 180.0 - _between(p("hip") - p("knee"), p("ankle") - p("knee"))
        elif joint == "elbow" and all(f"{side}_{q}" in index for q in ("shoulder", "elbow", "wrist")):
            values = 180.0 - _between(p("shoulder") - p("elbow"), p("wrist") - p("elbow"))
        elif joint in ("hip", "shoulder") and frame is not None:
            outer = {"hip": "knee", "shoulder": "elbow"}[joint]
            if f"{side}_{outer}" not in index:
                continue
            up, lateral, forward = frame
            segment = p(outer) - p(joint)
            sagittal = segment - np.sum(segment * lateral, axis=1, keepdims=True) * lateral
            values = np.degrees(np.arctan2(np.sum(sagittal * forward, axis=1), np.sum(sagittal * -up, axis=1)))
        elif name == "trunk" and frame is not None:
            values = _between(frame[0], np.broadcast_to(WORLD_UP, frame[0].shape))
        else:
            continue
        names.append(name)
        columns.append(values)
    degrees = np.stack(columns, axis=1) if columns else np.zeros((len(points), 0))
    return tuple(names), degrees

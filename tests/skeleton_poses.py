"""Hand-made OpenPose-18 skeletons with known angles, for the angle and export tests.

:func:`side_view` builds a person seen from the side, facing right (or left, mirrored), from
the angles it should measure: segments are placed by their direction on the screen
(anticlockwise from the horizontal pointing forward, y up), joints by Sports2D's definitions:
thigh = trunk - 180 + hip flexion, shank = thigh - knee flexion, arm = trunk - 180 + shoulder
flexion, forearm = arm + elbow flexion. Pixels, image y down, confidence 0.9 (0 = dropped).
"""
from __future__ import annotations

import math

import numpy as np

from pose.skeleton import PART_NAMES

P = {name: i for i, name in enumerate(PART_NAMES)}
TRUNK, THIGH, SHANK, ARM, FOREARM, HEAD = 100.0, 90.0, 85.0, 60.0, 50.0, 30.0


def _at(origin: tuple[float, float], angle_deg: float, length: float) -> tuple[float, float]:
    """A point ``length`` from ``origin`` in screen direction ``angle_deg`` (image y down)."""
    a = math.radians(angle_deg)
    return origin[0] + length * math.cos(a), origin[1] - length * math.sin(a)


def side_view(*, knee: float = 0.0, hip: float = 0.0, shoulder: float = 0.0, elbow: float = 0.0,
              trunk: float = 90.0, head: float = 90.0, facing: int = 1, origin=(300.0, 300.0),
              missing: tuple[str, ...] = (), far_side_dx: float = 0.0, left: dict | None = None) -> np.ndarray:
    """float32 ``(18, 3)``: both sides alike (the far side hidden behind the near one), the far
    side's hip and shoulder ``far_side_dx`` pixels further forward; parts in ``missing`` are
    dropped (0, 0, 0); ``left`` overrides the left side's joint angles (e.g. ``{"hip": -20}``)."""
    kp = np.zeros((18, 3), np.float32)
    mid = origin
    neck = _at(mid, trunk, TRUNK)
    ears = _at(neck, head, HEAD)
    points = {"neck": neck, "nose": (ears[0] + 12, ears[1] + 4), "right_eye": (ears[0] + 8, ears[1] - 2),
              "left_eye": (ears[0] + 8, ears[1] - 2), "right_ear": ears, "left_ear": ears}
    for side, dx in (("right", 0.0), ("left", far_side_dx)):
        joints = {"knee": knee, "hip": hip, "shoulder": shoulder, "elbow": elbow,
                  **((left or {}) if side == "left" else {})}
        thigh = trunk - 180 + joints["hip"]
        shank = thigh - joints["knee"]
        arm = trunk - 180 + joints["shoulder"]
        forearm = arm + joints["elbow"]
        hip_point = (mid[0] + dx, mid[1])
        knee_point = _at(hip_point, thigh, THIGH)
        shoulder_point = (neck[0] + dx, neck[1])
        elbow_point = _at(shoulder_point, arm, ARM)
        points.update({f"{side}_hip": hip_point, f"{side}_knee": knee_point,
                       f"{side}_ankle": _at(knee_point, shank, SHANK), f"{side}_shoulder": shoulder_point,
                       f"{side}_elbow": elbow_point, f"{side}_wrist": _at(elbow_point, forearm, FOREARM)})
    for name, (x, y) in points.items():
        if facing < 0:
            x = 2 * origin[0] - x
        kp[P[name]] = (x, y, 0.9)
    for name in missing:
        kp[P[name]] = 0.0
    return kp


def frontal(*, pelvis_tilt: float = 0.0, shoulders_tilt: float = 0.0, origin=(300.0, 300.0)) -> np.ndarray:
    """A person facing the camera (their right on the image's left) with the hip line and the
    shoulder line tilted anticlockwise (screen) by the given degrees."""
    kp = np.zeros((18, 3), np.float32)
    mid = origin
    neck = (mid[0], mid[1] - TRUNK)
    # right -> left points to the image's right (+x) at 0 tilt
    for (right, left), centre, half, tilt in ((("right_hip", "left_hip"), mid, 20.0, pelvis_tilt),
                                              (("right_shoulder", "left_shoulder"), neck, 35.0, shoulders_tilt)):
        kp[P[left]] = (*_at(centre, tilt, half), 0.9)
        kp[P[right]] = (*_at(centre, tilt + 180, half), 0.9)
    kp[P["neck"]] = (*neck, 0.9)
    kp[P["nose"]] = (neck[0], neck[1] - 30, 0.9)
    kp[P["right_ear"]] = (neck[0] - 10, neck[1] - 32, 0.9)
    kp[P["left_ear"]] = (neck[0] + 10, neck[1] - 32, 0.9)
    for side, sign in (("right", -1), ("left", 1)):
        hip_point = kp[P[f"{side}_hip"], :2]
        kp[P[f"{side}_knee"]] = (hip_point[0], hip_point[1] + THIGH, 0.9)
        kp[P[f"{side}_ankle"]] = (hip_point[0], hip_point[1] + THIGH + SHANK, 0.9)
        shoulder_point = kp[P[f"{side}_shoulder"], :2]
        kp[P[f"{side}_elbow"]] = (shoulder_point[0] + sign * 5, shoulder_point[1] + ARM, 0.9)
        kp[P[f"{side}_wrist"]] = (shoulder_point[0] + sign * 5, shoulder_point[1] + ARM + FOREARM, 0.9)
    return kp


def final_rows(people: dict[int, list[tuple[int, np.ndarray]]], *, fps: float = 30.0, untracked: int = 0,
               interpolated: dict[int, set[int]] | None = None) -> np.ndarray:
    """``pipeline.tracks.final_dtype(18)`` rows, sorted by seq, from person ID -> [(seq, keypoints
    (18, 3))]: frame = seq, time_s = seq / fps, raw = smoothed keypoints, box around the visible
    parts; ``interpolated`` marks (person -> seqs) rows as filled in (raw zeroed, every joint
    flagged); ``untracked`` adds that many person-0 rows (a still skeleton) in the first frames."""
    from pipeline.tracks import final_dtype

    entries = [(seq, pid, kp) for pid, frames in people.items() for seq, kp in frames]
    entries += [(seq, 0, side_view(origin=(900.0, 300.0))) for seq in range(untracked)]
    rows = np.zeros(len(entries), final_dtype(18))
    for row, (seq, pid, kp) in zip(rows, entries):
        filled = seq in (interpolated or {}).get(pid, set())
        visible = kp[kp[:, 2] > 0, :2]
        row["seq"], row["frame"], row["time_s"], row["person"] = seq, seq, seq / fps, pid
        row["score"], row["box"] = 0.8 if pid else 0.3, (*visible.min(axis=0), *visible.max(axis=0))
        row["keypoints"], row["keypoints_raw"] = kp, 0.0 if filled else kp
        row["interpolated"], row["joint_interpolated"] = filled, filled
    return rows[np.lexsort((-rows["score"], rows["seq"]))]

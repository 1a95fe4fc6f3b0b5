"""Keypoints as named points: the parts of a skeleton, the points made from them (the hips'
midpoint, the head), and the torso length that scales what "far" means for a person.

Keypoints: float ``(F, K, 3)``, x, y in image pixels and a confidence (<= 0: missing), the K parts
named by ``part_names``. Points come out as float64 ``(F, 2)``, NaN where missing.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

#: Points made from others: the hips' midpoint (both hips needed), the head (ears' midpoint;
#: one ear when only one is seen).
MID_HIP, HEAD = "mid_hip", "head"
#: Named points a skeleton may lack, and what stands in for them then (as Sports2D does for
#: BlazePose): the neck is the shoulders' midpoint (both needed), the big toe the foot index
#: (BlazePose's toe tip).
STAND_INS: dict[str, tuple[str, ...]] = {
    "neck": ("right_shoulder", "left_shoulder"),
    "right_big_toe": ("right_foot_index",), "left_big_toe": ("left_foot_index",),
}


def base_parts(point: str, part_names: Sequence[str]) -> tuple[str, ...]:
    """The skeleton parts ``point`` is made from (a part itself, a derived point, or a stand-in)."""
    if point == MID_HIP:
        return ("right_hip", "left_hip")
    if point == HEAD:
        return ("right_ear", "left_ear")
    if point not in part_names and point in STAND_INS:
        return STAND_INS[point]
    return (point,)


def xy(keypoints: np.ndarray) -> np.ndarray:
    """float64 ``(F, K, 2)`` x, y with NaN where the confidence is not above 0."""
    out = np.asarray(keypoints[..., :2], dtype=np.float64).copy()
    out[~(np.asarray(keypoints[..., 2]) > 0)] = np.nan
    return out


def points_xy(keypoints: np.ndarray, part_names: Sequence[str]) -> dict[str, np.ndarray]:
    """Every part (and the derived ones) as float64 ``(F, 2)``, NaN where missing."""
    keypoints = np.asarray(keypoints, dtype=np.float64)
    if keypoints.ndim != 3 or keypoints.shape[1:] != (len(part_names), 3):
        raise ValueError(f"keypoints must have shape (frames, {len(part_names)}, 3), got {keypoints.shape}")
    coords = xy(keypoints)
    points = {name: coords[:, i] for i, name in enumerate(part_names)}
    for point, parts in STAND_INS.items():
        if point not in points and all(p in points for p in parts):
            points[point] = sum(points[p] for p in parts) / len(parts)
    if "right_hip" in points and "left_hip" in points:
        points[MID_HIP] = (points["right_hip"] + points["left_hip"]) / 2
    if "right_ear" in points and "left_ear" in points:
        ears = np.stack([points["right_ear"], points["left_ear"]])
        seen = np.isfinite(ears[..., 0])
        total = np.where(seen[..., None], ears, 0.0).sum(axis=0)
        count = seen.sum(axis=0)[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            points[HEAD] = np.where(count > 0, total / count, np.nan)
    return points


def torso_length(keypoints: np.ndarray, part_names: Sequence[str]) -> float:
    """Median neck (or the shoulders' midpoint) to hips' midpoint distance over the frames,
    pixels (NaN if never seen)."""
    points = points_xy(keypoints, part_names)
    if "neck" not in points or MID_HIP not in points:
        return float("nan")
    lengths = np.linalg.norm(points["neck"] - points[MID_HIP], axis=1)
    return float(np.nanmedian(lengths)) if np.isfinite(lengths).any() else float("nan")

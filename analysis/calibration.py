"""Pixels to metres from a person's known height (a 2D calibration, as Sports2D offers).

A person's standing height in pixels is estimated from the segments a 2D skeleton without a head
top or feet still has: shank (knee -> ankle), thigh (hip -> knee) and trunk (hips' midpoint ->
neck), each the median of its per-frame length over the track (both sides' mean where both are
seen), summed and divided by the fraction of the standing height they span in Winter's
anthropometric table (Biomechanics and Motor Control of Human Movement, 4th ed., 2009, fig. 4.1:
ankle 0.039 H, knee 0.285 H, hip 0.530 H, shoulder 0.818 H: 0.779 H from ankle to shoulder).

It assumes what a 2D video of one plane assumes: the person moves in a plane parallel to the
image and stands or walks upright for part of the track (foreshortened segments make the
person look shorter). Expect a few percent of error; positions in metres are in that plane.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from analysis.points import points_xy

#: Ankle to shoulder height as a fraction of standing height (Winter 2009: 0.818 - 0.039).
ANKLE_TO_SHOULDER = 0.779
SEGMENTS = (
    (("right_knee", "right_ankle"), ("left_knee", "left_ankle")),
    (("right_hip", "right_knee"), ("left_hip", "left_knee")),
)


def _lengths(xy: dict[str, np.ndarray], a: str, b: str) -> np.ndarray:
    return np.linalg.norm(xy[a] - xy[b], axis=1)


def height_in_pixels(keypoints: np.ndarray, part_names: Sequence[str]) -> float:
    """Estimated standing height (pixels) of the person in ``keypoints`` float ``(F, K, 3)``
    (x, y pixels, confidence <= 0 = missing); NaN if a segment is never seen."""
    keypoints = np.asarray(keypoints, dtype=np.float64)
    needed = {"neck", "right_hip", "left_hip", "right_knee", "left_knee", "right_ankle", "left_ankle"}
    if not len(keypoints):
        return float("nan")
    xy = points_xy(keypoints, part_names)  # the neck may be the shoulders' midpoint (STAND_INS)
    if not needed <= set(xy):
        return float("nan")
    total = 0.0
    for right, left in SEGMENTS:
        both = np.stack([_lengths(xy, *right), _lengths(xy, *left)])
        seen = np.isfinite(both)
        with np.errstate(invalid="ignore", divide="ignore"):
            per_frame = np.where(seen, both, 0.0).sum(axis=0) / seen.sum(axis=0)
        if not np.isfinite(per_frame).any():
            return float("nan")
        total += float(np.nanmedian(per_frame))
    trunk = np.linalg.norm(xy["neck"] - (xy["right_hip"] + xy["left_hip"]) / 2, axis=1)
    if not np.isfinite(trunk).any():
        return float("nan")
    return (total + float(np.nanmedian(trunk))) / ANKLE_TO_SHOULDER

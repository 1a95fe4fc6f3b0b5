"""Segment lengths from 3D world coordinates (a model's skeleton with ``has_world``).

Input: ``world`` float ``(F, K, 3)`` metres for one person over F frames (NaN = none in that
frame), the K parts named by ``part_names``. A rigid segment keeps its length however the person
moves, so the spread of these lengths over a clip says how steady the model's 3D is.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

#: Left and right thigh (hip -> knee) and upper arm (shoulder -> elbow).
STEADY_SEGMENTS: dict[str, tuple[str, str]] = {
    "right_thigh": ("right_hip", "right_knee"), "left_thigh": ("left_hip", "left_knee"),
    "right_upper_arm": ("right_shoulder", "right_elbow"), "left_upper_arm": ("left_shoulder", "left_elbow"),
}


def segment_lengths(world: np.ndarray, part_names: Sequence[str],
                    segments: dict[str, tuple[str, str]] = STEADY_SEGMENTS) -> dict[str, np.ndarray]:
    """Each segment's length per frame: float64 ``(F,)`` metres, NaN where a frame has none."""
    world = np.asarray(world, dtype=np.float64)
    names = list(part_names)
    if world.ndim != 3 or world.shape[1:] != (len(names), 3):
        raise ValueError(f"world must have shape (frames, {len(names)}, 3), got {world.shape}")
    return {name: np.linalg.norm(world[:, names.index(a)] - world[:, names.index(b)], axis=1)
            for name, (a, b) in segments.items()}


def coefficient_of_variation(values: np.ndarray) -> float:
    """Standard deviation / mean of the finite values (NaN when fewer than two)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if len(values) < 2 or values.mean() == 0:
        return float("nan")
    return float(values.std() / values.mean())

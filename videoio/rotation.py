"""Display rotation: how stored frames must be turned to look upright.

FFmpeg (and so PyAV) does not rotate decoded frames; a phone's portrait video is stored
landscape with a display matrix (or, in old files, a ``rotate`` tag) saying how to show it.
This module reads that once and applies it exactly once.

Convention used throughout :mod:`videoio`: ``rotation`` is the CLOCKWISE angle, one of
0, 90, 180, 270, by which a stored frame is turned to display it upright (the meaning of the
classic ``rotate=90`` tag of a portrait phone video).
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def normalize_rotation(degrees: float) -> int:
    """Clockwise ``degrees`` (any sign or size) rounded to the nearest of 0, 90, 180, 270."""
    return int(round(degrees / 90.0)) % 4 * 90


def rotation_from_frame(frame_rotation: float | None) -> int:
    """Clockwise display rotation from PyAV's ``VideoFrame.rotation``.

    PyAV reports the display matrix angle counter-clockwise in [-180, 180] (``-90`` for a
    ``rotate=90`` portrait video), so the clockwise angle is its negation.
    """
    if not frame_rotation:
        return 0
    return normalize_rotation(-float(frame_rotation))


def rotation_from_metadata(metadata: Mapping[str, str]) -> int:
    """Clockwise rotation from a legacy ``rotate`` metadata tag; 0 when absent or unparsable."""
    value = metadata.get("rotate")
    if value is None:
        return 0
    try:
        return normalize_rotation(float(value))
    except ValueError:
        return 0


def apply_rotation(image: np.ndarray, rotation: int) -> np.ndarray:
    """Turn ``image`` (H, W, C) clockwise by ``rotation`` degrees; C-contiguous result.

    A 90 or 270 rotation swaps width and height. ``rotation`` must be 0, 90, 180 or 270.
    """
    if rotation == 0:
        return np.ascontiguousarray(image)
    if rotation not in (90, 180, 270):
        raise ValueError(f"rotation must be 0, 90, 180 or 270, got {rotation}")
    # np.rot90 turns counter-clockwise for positive k.
    return np.ascontiguousarray(np.rot90(image, k=-(rotation // 90)))

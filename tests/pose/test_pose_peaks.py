"""Heatmap peak finding on hand-made maps: positions, order, thresholds, plateaus, sub-pixel."""
from __future__ import annotations

import numpy as np
import pytest

from pose.peaks import find_peaks, smooth, upsample


def blob(height: int, width: int, x: float, y: float, *, sigma: float = 2.0, peak: float = 1.0) -> np.ndarray:
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    return (peak * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma**2))).astype(np.float32)


def test_peaks_are_grouped_by_part_and_raster_ordered_with_offsets() -> None:
    maps = np.zeros((40, 50, 3), np.float32)
    maps[:, :, 0] = blob(40, 50, 30, 8) + blob(40, 50, 10, 25, peak=0.6)
    maps[:, :, 2] = blob(40, 50, 5, 5, peak=0.8)
    peaks = find_peaks(maps, threshold=0.05, subpixel=False)
    assert peaks.part.tolist() == [0, 0, 2]
    assert peaks.x.tolist() == [30.0, 10.0, 5.0]
    assert peaks.y.tolist() == [8.0, 25.0, 5.0]
    assert peaks.score == pytest.approx([1.0, 0.6, 0.8])
    assert peaks.offsets.tolist() == [0, 2, 2, 3]
    assert peaks.of_part(1) == slice(2, 2) and len(peaks) == 3


def test_threshold_is_strict_and_drops_weak_peaks() -> None:
    maps = (blob(20, 20, 5, 5, peak=0.04) + blob(20, 20, 14, 14, peak=0.3))[..., None]
    peaks = find_peaks(maps, threshold=0.05)
    assert len(peaks) == 1 and peaks.x[0] == pytest.approx(14.0)
    assert len(find_peaks(maps, threshold=0.3)) == 0


def test_plateau_gives_one_peak() -> None:
    maps = np.zeros((10, 10, 1), np.float32)
    maps[4:6, 3:6, 0] = 0.7  # a 2x3 flat top
    peaks = find_peaks(maps, threshold=0.05)
    assert len(peaks) == 1
    # The parabola fit moves the first tied pixel half a pixel towards its tied neighbours.
    assert (peaks.x[0], peaks.y[0]) == (pytest.approx(3.5), pytest.approx(4.5))


@pytest.mark.parametrize(("x", "y"), [(10.3, 12.0), (9.75, 11.6), (20.0, 7.45)])
def test_subpixel_refinement_recovers_off_grid_centres(x: float, y: float) -> None:
    maps = blob(30, 30, x, y, sigma=3.0)[..., None]
    refined = find_peaks(maps, threshold=0.05)
    coarse = find_peaks(maps, threshold=0.05, subpixel=False)
    assert abs(refined.x[0] - x) < 0.08 and abs(refined.y[0] - y) < 0.08
    assert (coarse.x[0], coarse.y[0]) == (round(x), round(y))


def test_scores_can_come_from_another_map() -> None:
    smoothed = blob(20, 20, 8, 9)[..., None]
    raw = np.full((20, 20, 1), 0.25, np.float32)
    peaks = find_peaks(smoothed, threshold=0.05, scores=raw)
    assert peaks.score.tolist() == [0.25]


def test_peaks_at_the_border_are_found() -> None:
    maps = blob(16, 16, 0, 15)[..., None]
    peaks = find_peaks(maps, threshold=0.05)
    assert len(peaks) == 1 and (peaks.x[0], peaks.y[0]) == (0.0, 15.0)


def test_upsample_and_smooth_keep_a_centred_blob_centred() -> None:
    low = np.zeros((9, 11, 2), np.float32)
    low[4, 5, 1] = 1.0
    up = upsample(low, 4)
    assert up.shape == (36, 44, 2) and up.dtype == np.float32
    smoothed = smooth(up, 3.0)
    assert smoothed.shape == up.shape
    peaks = find_peaks(smoothed, threshold=0.01)
    # Cell (5, 4) has its centre at upsampled (5 + 0.5) * 4 - 0.5 = 21.5, (4 + 0.5) * 4 - 0.5 = 17.5.
    assert peaks.part.tolist() == [1]
    assert peaks.x[0] == pytest.approx(21.5, abs=0.05) and peaks.y[0] == pytest.approx(17.5, abs=0.05)
    assert upsample(low, 1) is low and smooth(up, 0.0) is up
    with pytest.raises(ValueError):
        upsample(low, 0)

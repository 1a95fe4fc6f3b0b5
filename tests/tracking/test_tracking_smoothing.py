"""Keypoint smoothing: zero phase, no filtering across gaps, low frame rates, short runs,
raw values kept, presets, and the One Euro alternative."""
from __future__ import annotations

import numpy as np
import pytest

from tracking import InvalidDetectionsError
from tracking.smoothing import (
    MIN_RUN, SmoothingSettings, contiguous_runs, effective_cutoff, smooth_boxes, smooth_keypoints,
    smooth_series, smoothing_preset,
)

LIGHT = smoothing_preset("light")


def one_joint(values: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
    """(F, 1, 3) keypoints: x = values, y = 0, confidence 1 (0 where not present)."""
    conf = np.ones(len(values)) if present is None else present.astype(np.float64)
    return np.stack([np.column_stack([values, np.zeros(len(values)), conf])], axis=1)


def half_crossing(x: np.ndarray, low: float, high: float) -> float:
    """Where (in fractional samples) a rising series first crosses the middle of low..high."""
    middle = (low + high) / 2
    i = int(np.argmax(x >= middle))
    return i - 1 + (middle - x[i - 1]) / (x[i] - x[i - 1])


@pytest.mark.parametrize("fps", [30.0, 60.0, 10.0])
def test_a_step_is_not_delayed(fps: float) -> None:
    frames = np.arange(100)
    step = np.where(frames >= 50, 100.0, 0.0)  # the step's midpoint is at 49.5
    out = smooth_keypoints(frames, one_joint(step), fps=fps, settings=LIGHT).smoothed[:, 0, 0]
    assert abs(half_crossing(out, 0, 100) - 49.5) < 0.05
    assert np.abs(out[1:] - out[:-1]).max() < 100  # and it was smoothed, not passed through
    one_euro = SmoothingSettings(method="one_euro", min_cutoff_hz=1.0, beta=0.0)
    lagging = smooth_keypoints(frames, one_joint(step), fps=fps, settings=one_euro).smoothed[:, 0, 0]
    assert half_crossing(lagging, 0, 100) > 50.0  # the causal filter lags behind the step


def test_runs_split_by_a_missing_sample_are_filtered_separately() -> None:
    rng = np.random.default_rng(0)
    frames = np.arange(60)
    x = np.concatenate([rng.normal(0, 3, 30), rng.normal(500, 3, 30)])
    present = np.ones(60, dtype=bool)
    present[30] = False  # one missing sample between two people-far-apart levels
    out = smooth_keypoints(frames, one_joint(x, present), fps=30.0, settings=LIGHT).smoothed[:, 0, 0]
    alone_first = smooth_series(frames[:30], x[:30, None], np.ones(30, bool), fps=30.0, settings=LIGHT)[:, 0]
    alone_second = smooth_series(frames[31:], x[31:, None], np.ones(29, bool), fps=30.0, settings=LIGHT)[:, 0]
    np.testing.assert_allclose(out[:30], alone_first)
    np.testing.assert_allclose(out[31:], alone_second)
    assert out[30] == x[30]  # the missing sample is left as it was
    # Missing frames (not consecutive) split runs the same way.
    kept = np.r_[0:30, 31:60]
    by_frames = smooth_keypoints(frames[kept], one_joint(x[kept]), fps=30.0, settings=LIGHT).smoothed[:, 0, 0]
    np.testing.assert_allclose(by_frames, out[kept])
    assert contiguous_runs(frames[kept], np.ones(59, bool)) == [(0, 30), (30, 59)]


def test_jitter_is_reduced_and_raw_values_are_kept() -> None:
    rng = np.random.default_rng(1)
    frames = np.arange(300)
    truth = 200 + 50 * np.sin(2 * np.pi * 1.0 * frames / 30.0)  # 1 Hz motion at 30 fps
    noisy = truth + rng.normal(0, 4, 300)
    result = smooth_keypoints(frames, one_joint(noisy), fps=30.0, settings=LIGHT)
    np.testing.assert_array_equal(result.raw[:, 0, 0], noisy)
    np.testing.assert_array_equal(result.smoothed[:, 0, 2], result.raw[:, 0, 2])  # confidence as is
    error = np.abs(result.smoothed[10:-10, 0, 0] - truth[10:-10]).mean()
    # White noise keeps the 6 / 15 of its band below the cut-off: about sqrt(0.4) = 0.63 of it.
    assert error < 0.7 * np.abs(noisy - truth).mean()
    assert result.cutoff_hz == 6.0


def test_low_frame_rates_lower_the_cutoff_below_nyquist() -> None:
    assert effective_cutoff(6.0, 30.0) == 6.0
    assert effective_cutoff(6.0, 10.0) == pytest.approx(4.0)  # Nyquist 5 Hz
    assert effective_cutoff(3.0, 5.0) == pytest.approx(2.0)
    frames = np.arange(40)
    for fps in (10.0, 5.0, 3.0, 1.0):
        out = smooth_keypoints(frames, one_joint(np.where(frames >= 20, 10.0, 0.0)), fps=fps, settings=LIGHT)
        assert np.isfinite(out.smoothed).all() and out.cutoff_hz < fps / 2


def test_short_runs_are_left_alone_and_runs_shorter_than_the_padding_still_work() -> None:
    frames = np.arange(MIN_RUN - 1)
    x = np.array([0.0, 10.0, 0.0, 10.0])[: MIN_RUN - 1]
    np.testing.assert_array_equal(smooth_keypoints(frames, one_joint(x), fps=30.0, settings=LIGHT).smoothed[:, 0, 0], x)
    frames = np.arange(8)  # shorter than sosfiltfilt's default padding (15)
    x = np.array([0.0, 10.0, 0.0, 10.0, 0.0, 10.0, 0.0, 10.0])
    out = smooth_keypoints(frames, one_joint(x), fps=30.0, settings=LIGHT).smoothed[:, 0, 0]
    assert np.isfinite(out).all() and np.abs(np.diff(out)).max() < 0.5 * np.abs(np.diff(x)).max()


def test_presets_and_settings() -> None:
    assert smoothing_preset("off") is None
    assert smoothing_preset("strong").cutoff_hz < smoothing_preset("light").cutoff_hz
    x = np.random.default_rng(2).normal(0, 1, 50)
    off = smooth_keypoints(np.arange(50), one_joint(x), fps=30.0, settings=None)
    np.testing.assert_array_equal(off.smoothed, off.raw)
    assert off.cutoff_hz is None
    with pytest.raises(ValueError, match="smoothing must be one of off, light, strong"):
        smoothing_preset("medium")
    with pytest.raises(ValueError, match="method"):
        SmoothingSettings(method="kalman")
    with pytest.raises(ValueError, match="cutoff_hz"):
        SmoothingSettings(cutoff_hz=0.0)
    with pytest.raises(InvalidDetectionsError, match="keypoints"):
        smooth_keypoints(np.arange(3), np.zeros((3, 2)), fps=30.0, settings=LIGHT)


def test_boxes_are_smoothed_in_centre_and_size_and_never_invert() -> None:
    rng = np.random.default_rng(3)
    frames = np.arange(60)
    cx = 100 + 2.0 * frames
    w = 40 + rng.normal(0, 6, 60)
    boxes = np.column_stack([cx - w / 2, np.full(60, 50.0), cx + w / 2, np.full(60, 150.0)])
    out = smooth_boxes(frames, boxes, fps=25.0, settings=LIGHT)
    assert (out[:, 2] >= out[:, 0]).all() and np.std(out[:, 2] - out[:, 0]) < np.std(w)
    np.testing.assert_allclose((out[:, 0] + out[:, 2]) / 2, cx, atol=0.01)  # a straight line stays

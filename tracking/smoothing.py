"""Keypoint smoothing within one track: a zero-phase Butterworth low-pass, or a One Euro filter.

Each keypoint coordinate is a time series over the track's frames. A filter never runs across a
missing sample: every contiguous run (consecutive frames where the keypoint is present) is
filtered on its own, and runs shorter than :data:`MIN_RUN` samples are left as they are. The raw
values are always returned beside the smoothed ones.

Presets (:func:`smoothing_preset`):
    "off": no smoothing (smoothed = raw).
    "light": Butterworth, order 4, cut-off 6 Hz (the Sports2D / Pose2Sim default): removes
        jitter, keeps the motion of walking, running and jumping.
    "strong": Butterworth, order 4, cut-off 3 Hz: steadier skeletons for slow movements
        (physiotherapy exercises, standing); rounds off fast ones.
The cut-off must stay below the Nyquist frequency (half the frame rate): when it would not,
it is lowered to :data:`NYQUIST_FRACTION` of the Nyquist frequency (e.g. 4 Hz at 10 fps).

Frames are 0-based frame indexes; keypoints x, y pixels and confidence (0 = missing).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.signal import butter, sosfiltfilt

from tracking.errors import InvalidDetectionsError

#: A cut-off at or above the Nyquist frequency is lowered to this fraction of it.
NYQUIST_FRACTION = 0.8
#: Runs shorter than this many samples are not filtered (too short to say what is jitter).
MIN_RUN = 5
METHODS = ("butterworth", "one_euro")


@dataclass(frozen=True)
class SmoothingSettings:
    """How to smooth.

    method: "butterworth" (zero-phase: ``scipy.signal.sosfiltfilt``, no delay) or "one_euro"
        (Casiez et al. 2012: causal, adapts its cut-off to the speed, so it lags a little).
    cutoff_hz, order: the Butterworth low-pass's cut-off frequency (Hz) and order.
    min_cutoff_hz, beta, d_cutoff_hz: the One Euro filter's minimum cut-off (Hz), speed
        coefficient (per pixel/s) and the cut-off for its speed estimate (Hz).
    """

    method: str = "butterworth"
    cutoff_hz: float = 6.0
    order: int = 4
    min_cutoff_hz: float = 1.0
    beta: float = 0.01
    d_cutoff_hz: float = 1.0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        for name in ("cutoff_hz", "min_cutoff_hz", "d_cutoff_hz"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be > 0 Hz, got {value!r}")
        if not (isinstance(self.order, int) and 1 <= self.order <= 8):
            raise ValueError(f"order must be a whole number from 1 to 8, got {self.order!r}")
        if not (math.isfinite(self.beta) and self.beta >= 0):
            raise ValueError(f"beta must be >= 0, got {self.beta!r}")


PRESETS: dict[str, SmoothingSettings | None] = {
    "off": None,
    "light": SmoothingSettings(method="butterworth", cutoff_hz=6.0, order=4),
    "strong": SmoothingSettings(method="butterworth", cutoff_hz=3.0, order=4),
}


def smoothing_preset(name: str) -> SmoothingSettings | None:
    """The settings of preset ``name`` ("off", "light", "strong"; see the module docstring)."""
    if name not in PRESETS:
        raise ValueError(f"smoothing must be one of {', '.join(PRESETS)}, got {name!r}")
    return PRESETS[name]


def effective_cutoff(cutoff_hz: float, fps: float) -> float:
    """The Butterworth cut-off actually used at ``fps``: ``cutoff_hz``, or
    ``NYQUIST_FRACTION * fps / 2`` when that is lower."""
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be > 0, got {fps!r}")
    return min(float(cutoff_hz), NYQUIST_FRACTION * fps / 2.0)


@dataclass(frozen=True, eq=False)
class SmoothedKeypoints:
    """raw: the input ``(F, K, 3)`` (a copy); smoothed: ``(F, K, 3)`` with x, y filtered and
    confidence as in raw; cutoff_hz: the Butterworth cut-off used (None for "off" / One Euro)."""

    raw: np.ndarray
    smoothed: np.ndarray
    cutoff_hz: float | None


def smooth_keypoints(frames: np.ndarray, keypoints: np.ndarray, *, fps: float,
                     settings: SmoothingSettings | None) -> SmoothedKeypoints:
    """Smooth one track's keypoints ``(F, K, 3)`` over its ``frames`` ``(F,)`` (strictly
    increasing) at ``fps``; ``settings`` None = no smoothing. A keypoint is present where its
    confidence is > 0; runs break at missing keypoints and at missing frames."""
    frames = np.asarray(frames, dtype=np.int64).reshape(-1)
    keypoints = np.asarray(keypoints, dtype=np.float64)
    if keypoints.ndim != 3 or keypoints.shape[0] != len(frames) or keypoints.shape[2] != 3:
        raise InvalidDetectionsError(f"keypoints must be ({len(frames)}, K, 3), got {keypoints.shape}")
    smoothed = keypoints.copy()
    if settings is None:
        return SmoothedKeypoints(keypoints.copy(), smoothed, None)
    for k in range(keypoints.shape[1]):
        smoothed[:, k, :2] = smooth_series(frames, keypoints[:, k, :2], keypoints[:, k, 2] > 0,
                                           fps=fps, settings=settings)
    cutoff = effective_cutoff(settings.cutoff_hz, fps) if settings.method == "butterworth" else None
    return SmoothedKeypoints(keypoints.copy(), smoothed, cutoff)


def smooth_series(frames: np.ndarray, values: np.ndarray, present: np.ndarray, *, fps: float,
                  settings: SmoothingSettings) -> np.ndarray:
    """Filter ``values`` ``(F, D)`` over ``frames`` ``(F,)`` run by run; samples where
    ``present`` ``(F,)`` is False, and runs shorter than :data:`MIN_RUN`, are returned as given.
    Also usable for boxes."""
    frames = np.asarray(frames, dtype=np.int64).reshape(-1)
    values = np.asarray(values, dtype=np.float64)
    out = values.copy()
    for start, stop in contiguous_runs(frames, np.asarray(present, dtype=bool)):
        if stop - start < MIN_RUN:
            continue
        if settings.method == "butterworth":
            out[start:stop] = _butterworth(values[start:stop], fps, settings)
        else:
            out[start:stop] = _one_euro(values[start:stop], fps, settings)
    return out


def smooth_boxes(frames: np.ndarray, boxes: np.ndarray, *, fps: float,
                 settings: SmoothingSettings | None) -> np.ndarray:
    """Smooth one track's boxes ``(F, 4)`` x1, y1, x2, y2 over ``frames`` ``(F,)``: centre,
    width and height are filtered run by run (as :func:`smooth_series`), so a box never
    inverts. Returns float64 ``(F, 4)``; ``settings`` None returns a copy."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if settings is None:
        return boxes.copy()
    centre_size = np.column_stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2,
                                   boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]])
    cx, cy, w, h = smooth_series(frames, centre_size, np.ones(len(boxes), dtype=bool), fps=fps,
                                 settings=settings).T
    w, h = np.clip(w, 0.0, None), np.clip(h, 0.0, None)
    return np.column_stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def contiguous_runs(frames: np.ndarray, present: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` row ranges where ``present`` holds and frames step by exactly 1."""
    runs: list[tuple[int, int]] = []
    start = None
    for i in range(len(frames)):
        continues = start is not None and present[i] and frames[i] == frames[i - 1] + 1
        if start is not None and not continues:
            runs.append((start, i))
            start = None
        if start is None and present[i]:
            start = i
    if start is not None:
        runs.append((start, len(frames)))
    return runs


def _butterworth(run: np.ndarray, fps: float, settings: SmoothingSettings) -> np.ndarray:
    sos, default_padlen = _design(settings.order, effective_cutoff(settings.cutoff_hz, fps), float(fps))
    return sosfiltfilt(sos, run, axis=0, padlen=min(default_padlen, len(run) - 1))


@lru_cache(maxsize=32)
def _design(order: int, cutoff_hz: float, fps: float) -> tuple[np.ndarray, int]:
    """The low-pass's second-order sections and sosfiltfilt's default padding (designed once;
    sosfiltfilt only reads them)."""
    sos = butter(order, cutoff_hz, btype="low", fs=fps, output="sos")
    return sos, 3 * (2 * len(sos) + 1 - min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum())))


def _one_euro(run: np.ndarray, fps: float, settings: SmoothingSettings) -> np.ndarray:
    """The One Euro filter over ``run`` ``(T, D)`` sampled at ``fps``, each column on its own."""
    def alpha(cutoff: np.ndarray | float) -> np.ndarray | float:
        tau = 1.0 / (2.0 * math.pi * cutoff)
        return 1.0 / (1.0 + tau * fps)

    out = np.empty_like(run)
    out[0] = run[0]
    speed = np.zeros(run.shape[1])
    a_d = alpha(settings.d_cutoff_hz)
    for t in range(1, len(run)):
        speed = a_d * (run[t] - out[t - 1]) * fps + (1 - a_d) * speed
        a = alpha(settings.min_cutoff_hz + settings.beta * np.abs(speed))
        out[t] = a * run[t] + (1 - a) * out[t - 1]
    return out

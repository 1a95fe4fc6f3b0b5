"""Repetitions of a movement, counted on one angle's curve with hysteresis.

A pure library like the rest of :mod:`analysis`.

Input: ``degrees`` float ``(F,)`` (a smoothed angle, NaN = missing) and ``time_s`` ``(F,)`` of the
same frames (increasing; frames may be missing between them). Output: a list of :class:`Rep`.

How (every threshold a fraction of the curve's own range, so any joint and any size works):

1. Spikes (a value more than ``max_step_deg`` from the median of the 5 frames around it) are
   dropped. Gaps (NaN) up to ``max_gap_s`` are bridged by linear interpolation; a longer gap, or a step
   of more than ``max_step_deg`` between neighbouring values (a wrong point, or a joint angle
   passing +-180: not motion), ends what was under way (a rep not finished there is not counted).
2. The range: ``low`` and ``high`` are the 2nd and 98th percentiles. Less than ``min_range_deg``
   apart: nothing moves enough to count (no reps).
3. The rest side is the extreme the curve reaches first (standing for a squat, arms down for a
   jumping jack); the curve is read as the fraction of the way from rest to the far side.
4. Hysteresis: a rep starts to count when the curve goes beyond ``far`` (default 0.65 of the
   way) and is counted when it comes back within ``near`` (0.35) of rest. A pause anywhere (at
   the bottom of a squat, at rest between reps) changes nothing; a partial rep that does not
   reach ``far`` is not counted (:func:`partial_reps` says how many there were); a rep under
   way when the person walks off or the video ends is not counted.
5. Each rep's start is the last frame near its rest-side turning point before it left rest, its
   end the first frame near the next one after it came back ("near": within ``settle`` of the
   range), so pauses at rest are outside the rep and pauses at the far side inside it.

Per rep: start and end (frame indexes and seconds), the minimum and maximum angle, duration, and
tempo: seconds going out (start to the far turning point), held there (within ``settle``) and
coming back.

Automatic choice (:func:`choose_angle`): among the angles given, the one whose reps (two or more)
have the largest median range; then the most reps.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Mapping

import numpy as np

MIN_RANGE_DEG = 40.0
FAR, NEAR, SETTLE = 0.65, 0.35, 0.08
MAX_GAP_S = 0.5
MAX_STEP_DEG = 60.0


@dataclass(frozen=True)
class Rep:
    """One repetition. ``start``/``end``/``turn``: indexes into the series (``turn``: the far
    turning point); times in seconds; degrees of the angle."""

    number: int
    start: int
    end: int
    turn: int
    start_s: float
    end_s: float
    min_degrees: float
    max_degrees: float
    out_s: float
    hold_s: float
    back_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def range_degrees(self) -> float:
        return self.max_degrees - self.min_degrees

    @property
    def tempo(self) -> str:
        """Seconds out - held - back, as coaches write tempo (e.g. ``1.2-0.3-0.9``)."""
        return f"{self.out_s:.1f}-{self.hold_s:.1f}-{self.back_s:.1f}"


def _despiked(values: np.ndarray, max_step_deg: float, half: int = 2) -> np.ndarray:
    """``values`` with spikes made missing: a value more than ``max_step_deg`` from the median of
    the seen values within ``half`` frames either side of it (a wrong point in one or two frames)."""
    out = values.copy()
    padded = np.concatenate([np.full(half, np.nan), values, np.full(half, np.nan)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing window: NaN, as meant
        median = np.nanmedian(windows, axis=1)
        out[np.abs(values - median) > max_step_deg] = np.nan
    return out


def _bridged(degrees: np.ndarray, time_s: np.ndarray, max_gap_s: float,
             max_step_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """(values with short gaps filled, piece number per frame; -1 where missing)."""
    values = _despiked(np.asarray(degrees, dtype=np.float64), max_step_deg)
    seen = np.flatnonzero(np.isfinite(values))
    piece = np.full(len(values), -1)
    if not len(seen):
        return values, piece
    jumps = (np.diff(time_s[seen]) > max_gap_s) | (np.abs(np.diff(values[seen])) > max_step_deg)
    breaks = np.flatnonzero(jumps) + 1
    for number, part in enumerate(np.split(seen, breaks)):
        span = np.arange(part[0], part[-1] + 1)
        values[span] = np.interp(time_s[span], time_s[part], values[part])
        piece[span] = number
    return values, piece


def _excursions(u: np.ndarray, piece: np.ndarray, far: float, near: float) -> tuple[list[tuple[int, int]], int]:
    """([(frame it went beyond far, frame it came back within near)], partial count)."""
    done, partial = [], 0
    state, out_at, peak = "unknown", -1, 0.0
    for i in range(len(u)):
        if piece[i] < 0 or (i and piece[i] != piece[i - 1]):
            state = "unknown"
            if piece[i] < 0:
                continue
        value = u[i]
        if state == "unknown":
            state = "rest" if value <= near else state
            peak = 0.0
        elif state == "rest":
            peak = max(peak, value)
            if value >= far:
                state, out_at = "out", i
            elif value <= near and peak > (near + far) / 2:
                partial += 1
                peak = 0.0
            elif value <= near:
                peak = min(peak, value)
        elif state == "out" and value <= near:
            done.append((out_at, i))
            state, peak = "rest", 0.0
    return done, partial


def _rest_side(values: np.ndarray, low: float, high: float, near: float) -> int:
    """+1 if the curve first rests near ``low``, -1 near ``high`` (0: neither)."""
    width = high - low
    for value in values:
        if np.isfinite(value) and value <= low + near * width:
            return 1
        if np.isfinite(value) and value >= high - near * width:
            return -1
    return 0


def _normalised(degrees: np.ndarray, time_s: np.ndarray, min_range_deg: float, near: float,
                max_gap_s: float,
                max_step_deg: float = MAX_STEP_DEG) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(fraction of the way from rest, piece per frame, the despiked and bridged degrees) or None."""
    values, piece = _bridged(degrees, np.asarray(time_s, dtype=np.float64), max_gap_s, max_step_deg)
    if not (piece >= 0).any():
        return None
    low, high = np.nanpercentile(values, [2, 98])
    if high - low < min_range_deg:
        return None
    side = _rest_side(values, low, high, near)
    if side == 0:
        return None
    u = (values - low) / (high - low) if side > 0 else (high - values) / (high - low)
    return u, piece, values


def count_reps(degrees: np.ndarray, time_s: np.ndarray, *, min_range_deg: float = MIN_RANGE_DEG,
               far: float = FAR, near: float = NEAR, settle: float = SETTLE,
               max_gap_s: float = MAX_GAP_S) -> list[Rep]:
    """The repetitions in one angle's curve (see the module docstring)."""
    degrees = np.asarray(degrees, dtype=np.float64)
    time_s = np.asarray(time_s, dtype=np.float64)
    if degrees.shape != time_s.shape or degrees.ndim != 1:
        raise ValueError(f"degrees and time_s must be 1-D and alike, got {degrees.shape} and {time_s.shape}")
    normal = _normalised(degrees, time_s, min_range_deg, near, max_gap_s)
    if normal is None:
        return []
    u, piece, values = normal
    done, _ = _excursions(u, piece, far, near)
    reps: list[Rep] = []
    previous_end = 0
    for k, (out_at, back_at) in enumerate(done):
        next_out = done[k + 1][0] if k + 1 < len(done) else len(u)
        start = _settled(u, piece, previous_end, out_at, settle, last=True)
        end = _settled(u, piece, back_at, next_out, settle, last=False)
        inside = np.arange(start, end + 1)
        turn = int(inside[np.nanargmax(u[inside])])
        held = inside[u[inside] >= u[turn] - settle]
        seen = values[inside][np.isfinite(values[inside])]
        low, high = (float(seen.min()), float(seen.max())) if len(seen) else (np.nan, np.nan)
        reps.append(Rep(number=len(reps) + 1, start=int(start), end=int(end), turn=turn,
                        start_s=float(time_s[start]), end_s=float(time_s[end]), min_degrees=low, max_degrees=high,
                        out_s=float(time_s[held[0]] - time_s[start]),
                        hold_s=float(time_s[held[-1]] - time_s[held[0]]),
                        back_s=float(time_s[end] - time_s[held[-1]])))
        previous_end = end
    return reps


def _settled(u: np.ndarray, piece: np.ndarray, a: int, b: int, settle: float, *, last: bool) -> int:
    """Within frames [a, b) of the crossing's piece: the last (``last``) or first frame within
    ``settle`` of the lowest value there (the rest-side turning point)."""
    crossing = b - 1 if last else a
    span = np.arange(a, b)
    span = span[piece[span] == piece[crossing]] if len(span) else span
    if not len(span):
        return crossing
    lowest = np.nanmin(u[span])
    near = span[u[span] <= lowest + settle]
    return int(near[-1] if last else near[0])


def partial_reps(degrees: np.ndarray, time_s: np.ndarray, *, min_range_deg: float = MIN_RANGE_DEG,
                 far: float = FAR, near: float = NEAR, max_gap_s: float = MAX_GAP_S) -> int:
    """How many times the curve went more than halfway between ``near`` and ``far`` and came
    back without reaching ``far`` (partial reps, not counted)."""
    normal = _normalised(np.asarray(degrees, np.float64), np.asarray(time_s, np.float64), min_range_deg, near,
                         max_gap_s)
    return 0 if normal is None else _excursions(normal[0], normal[1], far, near)[1]


def choose_angle(reps_by_angle: Mapping[str, list[Rep]]) -> str | None:
    """The angle whose reps (at least two) have the largest median range, then the most reps;
    None when no angle has two."""
    scored = [(float(np.median([r.range_degrees for r in reps])), len(reps), name)
              for name, reps in reps_by_angle.items() if len(reps) >= 2]
    return max(scored)[2] if scored else None

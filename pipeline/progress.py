"""Progress of one pipeline run across its passes, throttled for whoever listens.

Stages, in order: "probing", "analysing" (pass 1: decode, inference, tracking), "tracking"
(stitching, gap filling, smoothing over the whole video), "rendering" (pass 2: drawing,
encoding, exports) and "finalizing". ``fraction`` covers the whole run, each pass weighted by
its usual share of the time (:data:`ANALYSE_SHARE`, measured with ``bench/pipeline.py``).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

PROGRESS_INTERVAL_S = 0.5
#: Pass 1's share of a run's time: inference dominates; pass 2 decodes, draws and encodes.
ANALYSE_SHARE = 0.85


@dataclass(frozen=True)
class Progress:
    """stage: see the module docstring; frames_done / frames_total: frames of the current pass
    (frames_total an estimate, or None); fps: the current pass's frames per second so far;
    eta_s: seconds left for the whole run (None while unknown); fraction: of the whole run, 0..1."""

    stage: str
    frames_done: int
    frames_total: int | None
    fps: float
    eta_s: float | None
    fraction: float = 0.0


class Reporter:
    """Turns pass events into :class:`Progress` callbacks, at most one per PROGRESS_INTERVAL_S
    (stage changes always pass)."""

    def __init__(self, callback: Callable[[Progress], None] | None) -> None:
        self._callback = callback
        self._last_time = -math.inf
        self._last_stage = ""
        self._started = time.monotonic()
        self._stage_started = self._started

    def probing(self) -> None:
        self._emit("probing", 0, None, 0.0)

    def analysing(self, done: int, expected: int | None) -> None:
        share = min(done / expected, 1.0) if expected else 0.0
        self._emit("analysing", done, expected, ANALYSE_SHARE * share)

    def tracking(self, frames: int) -> None:
        self._emit("tracking", frames, frames, ANALYSE_SHARE)

    def rendering(self, done: int, frames: int) -> None:
        share = min(done / frames, 1.0) if frames else 1.0
        self._emit("rendering", done, frames, ANALYSE_SHARE + (1.0 - ANALYSE_SHARE) * share)

    def finalizing(self, frames: int) -> None:
        self._emit("finalizing", frames, frames, 1.0)

    def _emit(self, stage: str, done: int, total: int | None, fraction: float) -> None:
        if self._callback is None:
            return
        now = time.monotonic()
        changed = stage != self._last_stage
        if changed:
            self._stage_started = now
        elif now - self._last_time < PROGRESS_INTERVAL_S:
            return
        self._last_time, self._last_stage = now, stage
        in_stage = now - self._stage_started
        fps = done / in_stage if in_stage > 0 and not changed else 0.0
        elapsed = now - self._started
        eta = elapsed / fraction * (1.0 - fraction) if fraction >= 0.01 else None
        self._callback(Progress(stage=stage, frames_done=done, frames_total=total, fps=fps,
                                eta_s=None if eta is None else max(0.0, eta), fraction=fraction))

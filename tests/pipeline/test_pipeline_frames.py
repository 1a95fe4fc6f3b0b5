"""pipeline.frames: screenshots by time, without the real model (no people in these frames)."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from videoio import Frame
from pipeline.frames import SCREENSHOTS_DIR, FrameProcessor
from pipeline.options import PipelineOptions


class _NoExports:
    def write_frame(self, *args: object) -> None:
        pass


def _shots(tmp_path: Path, times: list[float], **options: object) -> list[str]:
    frames = FrameProcessor(tmp_path, PipelineOptions(**options), _NoExports(), start_s=options.get("start_s", 0.0))
    image = np.zeros((16, 16, 3), np.uint8)
    for index, time_s in enumerate(times):
        frames.process(Frame(index=index, time_s=time_s, image=image), [])
    return sorted(p.name for p in (tmp_path / SCREENSHOTS_DIR).iterdir())


def test_a_screenshot_at_the_first_frame_at_or_after_each_interval(tmp_path: Path) -> None:
    names = _shots(tmp_path, [0.0, 0.4, 0.8, 1.2, 1.6, 3.7], screenshot_interval_s=0.5)
    assert names == ["t0000000.000s.jpg", "t0000000.800s.jpg", "t0000001.200s.jpg",
                     "t0000001.600s.jpg", "t0000003.700s.jpg"]


def test_screenshots_count_from_the_range_start(tmp_path: Path) -> None:
    names = _shots(tmp_path, [2.04, 2.5, 3.0, 3.1], screenshot_interval_s=1.0, start_s=2.03)
    assert names == ["t0000002.040s.jpg", "t0000003.100s.jpg"]


@pytest.mark.parametrize("interval", [1e-9, 1e-300, 5e-324])
def test_a_tiny_interval_takes_every_frame_at_once(tmp_path: Path, interval: float) -> None:
    # The web form accepts any positive interval; stepping to the next shot time must not loop
    # interval by interval (1e-9 s at 100 s of video was 1e11 steps; 1e-300 never got there).
    done: list[list[str]] = []
    worker = threading.Thread(target=lambda: done.append(
        _shots(tmp_path, [0.0, 50.0, 100.0, 100.04], screenshot_interval_s=interval)), daemon=True)
    worker.start()
    worker.join(10)
    assert done, "screenshot scheduling did not finish in 10 s"
    assert len(done[0]) == 4


def test_an_infinite_interval_takes_only_the_first_frame(tmp_path: Path) -> None:
    assert _shots(tmp_path, [0.0, 1.0, 2.0], screenshot_interval_s=float("inf")) == ["t0000000.000s.jpg"]


def test_screenshots_stop_at_the_limit_and_the_rest_are_counted(tmp_path: Path) -> None:
    frames = FrameProcessor(tmp_path, PipelineOptions(screenshot_interval_s=0.1), _NoExports(), start_s=0.0,
                            max_screenshots=3)
    image = np.zeros((16, 16, 3), np.uint8)
    for index in range(10):
        frames.process(Frame(index=index, time_s=index * 0.1, image=image), [])
    assert len(list((tmp_path / SCREENSHOTS_DIR).iterdir())) == 3
    assert (frames.stats.screenshots, frames.stats.screenshots_skipped) == (3, 7)

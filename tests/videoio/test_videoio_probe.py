"""probe's frame rate and frames_in_range: high-speed clips keep their rate; far ranges do not overflow."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from videoio import VideoReader, frames_in_range, probe
from videoio_clips import make_clip


@pytest.mark.parametrize("name, codec", [("fast.mp4", "libx264"), ("fast.mkv", "libx264"), ("fast.avi", "mpeg4")])
@pytest.mark.parametrize("fps", [Fraction(240), Fraction(1000)])
def test_a_high_speed_clip_keeps_its_frame_rate(tmp_path: Path, name: str, codec: str, fps: Fraction) -> None:
    info = probe(make_clip(tmp_path / name, frames=20, fps=fps, codec=codec))
    assert (info.fps, info.fps_guessed) == (fps, False)
    assert info.frame_count == 20 and info.duration_s == pytest.approx(float(20 / fps), abs=1e-3)


def test_a_raw_stream_without_a_rate_still_falls_back_to_25_fps(tmp_path: Path) -> None:
    info = probe(make_clip(tmp_path / "raw.h264", frames=5, container_format="h264"))
    assert info.fps == 25 and info.frame_count is None


@pytest.mark.parametrize("start_s, end_s, stride, expected", [
    (0.0, None, 1, 10), (0.2, None, 1, 5), (0.0, 0.2, 1, 5), (0.0, None, 3, 4), (0.1, 0.3, 2, 3),
    (30.0, None, 1, 0), (1e18, None, 1, 0), (1e308, None, 1, 0), (0.0, 1e308, 1, 10),
])
def test_frames_in_range_matches_what_the_reader_yields(tmp_path: Path, start_s, end_s, stride, expected) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=10, fps=Fraction(25))
    assert frames_in_range(probe(clip), start_s=start_s, end_s=end_s, stride=stride) == expected
    with VideoReader(clip, start_s=start_s, end_s=end_s, stride=stride) as reader:
        assert reader.frames_expected == expected == len(list(reader))

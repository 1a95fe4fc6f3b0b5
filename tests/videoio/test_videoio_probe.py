"""probe's frame rate and frames_in_range: high-speed clips keep their rate; a WebM written live (as a
browser's MediaRecorder writes it) is measured from its timestamps; far ranges do not overflow."""
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


def mediarecorder_like(path: Path, *, frames: int, pts: list[int], state_rate: bool) -> Path:
    """WebM written live (no duration, no cues, no frame count: Matroska's ``live`` option), with
    millisecond timestamps, as chromium's MediaRecorder writes a camera's frames."""
    return make_clip(path, frames=frames, codec="libvpx", container_format="webm", container_options={"live": "1"},
                     pts=pts, time_base=Fraction(1, 1000), fps=Fraction(30), state_rate=state_rate)


@pytest.mark.parametrize("gaps", [
    [20 + (13 * i) % 31 for i in range(59)],  # 20 to 50 ms apart: FFmpeg says 1000 fps (its clock), was 25
    [33 if i % 10 else 120 for i in range(59)],  # a camera that stalls: FFmpeg says 333 fps (the short gaps)
])
def test_a_live_written_webm_without_a_rate_is_measured_from_its_timestamps(tmp_path: Path, gaps: list[int]) -> None:
    pts = [0] + [sum(gaps[:i + 1]) for i in range(59)]
    info = probe(mediarecorder_like(tmp_path / "live.webm", frames=60, pts=pts, state_rate=False))
    assert not info.fps_guessed and float(info.fps) == pytest.approx(59 / (pts[-1] / 1000), rel=1e-3)
    assert info.frame_count == 60 and info.duration_s == pytest.approx(pts[-1] / 1000 + 1 / float(info.fps))
    assert sum(1 for _ in VideoReader(tmp_path / "live.webm")) == 60


def test_a_live_written_webm_with_a_rate_gets_its_frame_count_and_duration(tmp_path: Path) -> None:
    info = probe(mediarecorder_like(tmp_path / "steady.webm", frames=45, pts=[round(i * 1000 / 30) for i in range(45)],
                                    state_rate=True))
    assert (info.fps, info.frame_count) == (30, 45) and info.duration_s == pytest.approx(1.5, abs=0.01)


@pytest.mark.parametrize("start_s, end_s, stride, expected", [
    (0.0, None, 1, 10), (0.2, None, 1, 5), (0.0, 0.2, 1, 5), (0.0, None, 3, 4), (0.1, 0.3, 2, 3),
    (30.0, None, 1, 0), (1e18, None, 1, 0), (1e308, None, 1, 0), (0.0, 1e308, 1, 10),
])
def test_frames_in_range_matches_what_the_reader_yields(tmp_path: Path, start_s, end_s, stride, expected) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=10, fps=Fraction(25))
    assert frames_in_range(probe(clip), start_s=start_s, end_s=end_s, stride=stride) == expected
    with VideoReader(clip, start_s=start_s, end_s=end_s, stride=stride) as reader:
        assert reader.frames_expected == expected == len(list(reader))

"""Awkward inputs through the whole pipeline: correct output or a clear VideoError, nothing half-written.

Clips are generated here with PyAV (tiny, a few frames); the network runs small.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from pose import load_backend
from videoio import EmptyVideoError, NotAVideoError
from pipeline.video import PipelineOptions, process_video

pytestmark = pytest.mark.model
SMALL = PipelineOptions(net_height=128, upsample=2, screenshot_interval_s=0.2)


@pytest.fixture(scope="module")
def backend(model_path: Path):
    return load_backend("openvino", model_path)


def write_clip(path: Path, *, size=(64, 48), frames=5, fps=10, codec="libx264", pix_fmt="yuv420p",
               fmt=None, rotation_ccw=None, times_s=None, audio_only=False) -> Path:
    """A synthetic clip; ``times_s`` gives explicit (variable) frame times."""
    with av.open(str(path), "w", format=fmt) as container:
        if audio_only:
            audio = container.add_stream("pcm_s16le", rate=8000)
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 4000), np.int16), format="s16", layout="mono")
            frame.sample_rate = 8000
            for packet in [*audio.encode(frame), *audio.encode(None)]:
                container.mux(packet)
            return path
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], pix_fmt
        if times_s is not None:
            stream.codec_context.time_base = stream.time_base = Fraction(1, 1000)
        if rotation_ccw is not None:
            stream.set_display_rotation(rotation_ccw)
        if frames == 0:
            container.start_encoding()
        for i in range(frames):
            image = np.full((size[1], size[0], 3), 30 + 20 * i, np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            if times_s is not None:
                frame.pts, frame.time_base = round(times_s[i] * 1000), Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def output_video(path: Path) -> tuple[int, int, int, float]:
    """(width, height, frames, duration_s) of an annotated.mp4, decoded."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times = [float(f.time) for f in container.decode(stream)]
        return stream.width, stream.height, len(times), times[-1] - times[0]


@pytest.mark.parametrize(("name", "clip", "expect"), [
    ("odd.mkv", dict(size=(63, 47), codec="ffv1", pix_fmt="yuv420p"), (64, 48, 5, 0.4)),
    ("mpeg4.avi", dict(size=(96, 64), codec="mpeg4", fmt="avi"), (96, 64, 5, 0.4)),
    ("phone.mp4", dict(size=(64, 48), rotation_ccw=-90), (48, 64, 5, 0.4)),
    ("vfr.mp4", dict(times_s=[0.0, 0.1, 0.15, 0.5, 0.55]), (64, 48, 5, 0.55)),
    ("uhd.mp4", dict(size=(3840, 2160), frames=2), (3840, 2160, 2, 0.1)),
])
def test_awkward_videos_give_correct_output(backend, tmp_path: Path, name: str, clip: dict, expect) -> None:
    source = write_clip(tmp_path / name, **clip)
    result = process_video(source, tmp_path / "out", SMALL, backend=backend)
    width, height, frames, span = output_video(tmp_path / "out" / "annotated.mp4")
    assert (width, height, frames) == expect[:3] == (*expect[:2], result.frames_processed)
    assert span == pytest.approx(expect[3], abs=0.011)  # frame times kept (VFR too)
    assert (tmp_path / "out" / "screenshots" / "poster.jpg").is_file()


@pytest.mark.parametrize(("clip", "error"), [
    (dict(frames=0, fmt="mp4"), EmptyVideoError),
    (dict(audio_only=True, fmt="wav"), NotAVideoError),
])
def test_videos_without_frames_raise_a_clear_error(backend, tmp_path: Path, clip: dict, error) -> None:
    source = write_clip(tmp_path / "in.bin", **clip)
    with pytest.raises(error) as info:
        process_video(source, tmp_path / "out", SMALL, backend=backend)
    assert "in.bin" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.bin"]


def test_a_range_past_the_end_is_an_empty_video_error(backend, tmp_path: Path) -> None:
    source = write_clip(tmp_path / "short.mp4")
    with pytest.raises(EmptyVideoError, match="no frames in the requested range") as raised:
        process_video(source, tmp_path / "out", PipelineOptions(start_s=30.0, net_height=128), backend=backend)
    assert "(30 s to the end; the video is " in str(raised.value) and "None" not in str(raised.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["short.mp4"]

"""The pipeline enforces the resource limits itself: checked before the model is loaded, and
again while running for what a file's header can hide (its length). Real model, tiny clips."""
from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from config import ResourceLimits
from pose import load_backend
from videoio import EmptyVideoError, UnsupportedVideoError
from pipeline.limits import LimitExceeded
from pipeline.video import PipelineOptions, process_video

pytestmark = pytest.mark.model
SMALL = PipelineOptions(net_height=128, screenshot_interval_s=0)


@pytest.fixture(scope="module")
def backend(model_path: Path):
    return load_backend("openvino", model_path)


def write_clip(path: Path, *, size=(64, 48), frames=5, fps=25, fmt=None, audio=False) -> Path:
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        sound = container.add_stream("aac", rate=48000) if audio else None
        for i in range(frames):
            image = np.full((size[1], size[0], 3), 30 + 7 * i, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
        if sound is not None:
            silence = av.AudioFrame.from_ndarray(np.zeros((1, 2048), np.float32), format="fltp", layout="mono")
            silence.sample_rate, silence.pts = 48000, 0
            for packet in [*sound.encode(silence), *sound.encode(None)]:
                container.mux(packet)
    return path


def no_partials(tmp_path: Path) -> bool:
    return not any(p.name.startswith(".out.partial-") for p in tmp_path.iterdir())


def test_over_a_limit_is_refused_before_the_model_is_loaded(tmp_path: Path) -> None:
    # No model at that path: a check made after loading would fail on the model instead.
    clip = write_clip(tmp_path / "wide.mp4", size=(1600, 400))
    with pytest.raises(LimitExceeded, match=r"^wide.mp4: net_height x net_width = 2048 x 8192 = "):
        process_video(clip, tmp_path / "out", PipelineOptions(net_height=2048, upsample=16),
                      model_path=tmp_path / "missing.pb")
    with pytest.raises(LimitExceeded, match=r"^upload: .* \(MAX_HEATMAP_PIXELS"):
        process_video(clip, tmp_path / "out", PipelineOptions(upsample=4), source_name="upload",
                      model_path=tmp_path / "missing.pb", limits=ResourceLimits(max_heatmap_pixels=1_000_000))
    assert not (tmp_path / "out").exists() and no_partials(tmp_path)


def test_a_2x2_video_is_refused_naming_the_file(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "source", size=(2, 2), fmt="mp4")
    with pytest.raises(UnsupportedVideoError, match=r"^dot.mp4 is 2x2 pixels; frames must be at least 8"):
        process_video(clip, tmp_path / "out", SMALL, source_name="dot.mp4", model_path=tmp_path / "missing.pb")


def test_a_file_longer_than_it_says_stops_at_max_frames(backend, tmp_path: Path) -> None:
    # A raw H.264 stream states no length, so only the running pipeline can count its frames.
    clip = write_clip(tmp_path / "raw.h264", frames=12, fmt="h264")
    limits = ResourceLimits(max_frames=10)
    with pytest.raises(LimitExceeded, match=r"^raw.h264: more than 10 frames to process exceeds the limit of "
                                            r"10 \(MAX_FRAMES\)"):
        process_video(clip, tmp_path / "out", SMALL, backend=backend, limits=limits)
    assert not (tmp_path / "out").exists() and no_partials(tmp_path)
    result = process_video(clip, tmp_path / "out", replace(SMALL, end_s=0.4), backend=backend, limits=limits)
    assert result.frames_processed == 10


def test_screenshots_stop_at_max_screenshots_with_a_warning(backend, tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "raw.h264", frames=8, fmt="h264")  # length unknown: not refused up front
    result = process_video(clip, tmp_path / "out", replace(SMALL, screenshot_interval_s=0.0001),
                           backend=backend, limits=ResourceLimits(max_screenshots=3))
    assert len(result.screenshots) == 3
    assert result.warnings == ("raw.h264: screenshots stopped at the limit of 3 (MAX_SCREENSHOTS); "
                               "5 more were due",)


def test_frames_in_flight_follow_the_byte_budget_and_one_at_a_time_still_works(backend, tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", frames=6)
    alone = process_video(clip, tmp_path / "alone", SMALL, backend=backend,
                          limits=ResourceLimits(max_in_flight_bytes=1))
    default = process_video(clip, tmp_path / "default", SMALL, backend=backend)
    assert (alone.timings["frames_in_flight"], default.timings["frames_in_flight"]) == (1, 16)
    assert alone.frames_processed == default.frames_processed == 6
    assert ((tmp_path / "alone" / "keypoints.csv").read_bytes()
            == (tmp_path / "default" / "keypoints.csv").read_bytes())


@pytest.mark.parametrize("start_s", [1e18, 1e308])
def test_a_start_past_any_video_is_an_empty_range_not_an_overflow(backend, tmp_path: Path, start_s) -> None:
    for clip in (write_clip(tmp_path / "clip.mp4", audio=True), write_clip(tmp_path / "raw.h264", fmt="h264")):
        with pytest.raises(EmptyVideoError, match=rf"^{clip.name}: no frames in the requested range"):
            process_video(clip, tmp_path / "out", replace(SMALL, start_s=start_s), backend=backend)


def test_a_1000_fps_clip_keeps_its_rate(backend, tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "fast.mp4", frames=20, fps=1000)
    result = process_video(clip, tmp_path / "out", SMALL, backend=backend)
    assert result.output_fps == "1000" and result.video["fps"] == "1000"
    assert result.frames_processed == 20
    with av.open(str(tmp_path / "out" / "annotated.mp4")) as container:
        assert container.streams.video[0].average_rate == Fraction(1000)


def test_frames_that_grow_mid_stream_are_refused_as_they_are_decoded(backend, tmp_path: Path) -> None:
    # Two raw H.264 streams back to back: the probe sees 64x48, later frames are 4608x2160 (over
    # MAX_FRAME_PIXELS). Sized for the first, the frames in flight must not fill with the large.
    small = write_clip(tmp_path / "a.h264", frames=3, fmt="h264")
    large = write_clip(tmp_path / "b.h264", size=(4608, 2160), frames=3, fmt="h264")
    joined = tmp_path / "joined.h264"
    joined.write_bytes(small.read_bytes() + large.read_bytes())
    with pytest.raises(UnsupportedVideoError, match=r"^joined.h264: its frames change size from 64x48 to "
                                                    r"4608x2160 at frame 3; .*not supported"):
        process_video(joined, tmp_path / "out", SMALL, backend=backend)
    assert not (tmp_path / "out").exists() and no_partials(tmp_path)

"""pipeline.limits: a job's size from the probe and its options, checked against the limits.

Sizes are varied on the probe of one real tiny clip (``dataclasses.replace``), so each case is
exact; tests/web and test_pipeline_limits.py check the same through uploads and real runs.
"""
from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from config import CLI_LIMITS, ResourceLimits
from videoio import EmptyVideoError, UnsupportedVideoError, VideoInfo, probe
from pipeline.limits import MAX_FRAMES_IN_FLIGHT, LimitExceeded, check_job, frames_in_flight, job_size
from pipeline.options import PipelineOptions

LIMITS = ResourceLimits()


def write_clip(path: Path, *, width: int = 64, height: int = 48, frames: int = 3, fps: int = 25) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            image = np.full((height, width, 3), 40 * i, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


@pytest.fixture(scope="module")
def info(tmp_path_factory: pytest.TempPathFactory) -> VideoInfo:
    """A 64x48, 3-frame, 25 fps clip's probe: the base every case varies."""
    return probe(write_clip(tmp_path_factory.mktemp("limits") / "clip.mp4"))


def sized(info: VideoInfo, width: int, height: int, *, frames: int = 100, fps: int = 25) -> VideoInfo:
    return replace(info, width=width, height=height, frame_count=frames, fps=Fraction(fps),
                   duration_s=frames / fps)


def test_defaults_accept_every_option_the_upload_page_offers_on_real_frame_sizes(info: VideoInfo) -> None:
    for width, height in ((1920, 1080), (1080, 1920), (3840, 2160), (4096, 2160), (640, 480)):
        for net_height in (256, 368, 432, 512):
            check_job(sized(info, width, height), PipelineOptions(net_height=net_height), LIMITS, name="a.mp4")
    # upsample 16 (the most the options allow) at the default network size on 16:9 video
    check_job(sized(info, 1920, 1080), PipelineOptions(upsample=16), LIMITS, name="a.mp4")


def test_the_issue_s_wide_clip_at_net_height_2048_and_upsample_16_is_refused(info: VideoInfo) -> None:
    with pytest.raises(LimitExceeded) as refused:
        check_job(sized(info, 1600, 400, frames=5), PipelineOptions(net_height=2048, upsample=16), LIMITS,
                  name="'wide.mp4'")
    message = str(refused.value)
    # the width follows the 4:1 aspect ratio: 2048 x 8192 network pixels
    assert message.startswith("'wide.mp4': net_height x net_width = 2048 x 8192 = 16,777,216 network input")
    assert "exceeds the limit of 1,048,576 (MAX_NETWORK_PIXELS" in message
    assert refused.value.limit == "MAX_NETWORK_PIXELS"


def test_network_pixels_times_upsample_squared_has_its_own_limit(info: VideoInfo) -> None:
    with pytest.raises(LimitExceeded) as refused:
        check_job(sized(info, 1600, 400), PipelineOptions(net_height=512, upsample=16), LIMITS, name="w.mp4")
    assert str(refused.value).startswith(
        "w.mp4: net_height x net_width x upsample^2 = 512 x 2048 x 16^2 = 268,435,456 exceeds the limit "
        "of 67,108,864 (MAX_HEATMAP_PIXELS")
    # the same options on a 4:3 clip fit (the width follows the aspect ratio)
    check_job(sized(info, 640, 480), PipelineOptions(net_height=512, upsample=8), LIMITS, name="w.mp4")


def test_frame_size_over_the_limit_is_refused_naming_both_numbers(info: VideoInfo) -> None:
    with pytest.raises(LimitExceeded, match=r"big\.mp4: its frames are 8192 x 8192 = 67,108,864 pixels, over "
                                            r"the limit of 8,847,360 \(MAX_FRAME_PIXELS\)"):
        check_job(sized(info, 8192, 8192), PipelineOptions(), LIMITS, name="big.mp4")


@pytest.mark.parametrize("width, height", [(2, 2), (7, 480), (640, 4)])
def test_frames_smaller_than_the_network_stride_are_unsupported_naming_the_file(info, width, height) -> None:
    with pytest.raises(UnsupportedVideoError, match=f"tiny.mp4 is {width}x{height} pixels; frames must be at "
                                                    "least 8 pixels on each side"):
        check_job(sized(info, width, height), PipelineOptions(), LIMITS, name="tiny.mp4")


def test_too_many_frames_to_process_is_refused_and_a_range_or_stride_fits(info: VideoInfo) -> None:
    long = sized(info, 8, 8, frames=200_000, fps=1000)
    with pytest.raises(LimitExceeded, match=r"long.mp4: 200,000 frames to process exceeds the limit of 36,000 "
                                            r"\(MAX_FRAMES\); process a part of it"):
        check_job(long, PipelineOptions(screenshot_interval_s=0), LIMITS, name="long.mp4")
    assert check_job(long, PipelineOptions(end_s=30.0), LIMITS, name="long.mp4").frames == 30_000
    assert check_job(long, PipelineOptions(frame_stride=10), LIMITS, name="long.mp4").frames == 20_000


def test_too_many_screenshots_are_refused_with_an_interval_that_fits(info: VideoInfo) -> None:
    clip = sized(info, 64, 48, frames=6000, fps=30)  # 200 s
    with pytest.raises(LimitExceeded) as refused:
        check_job(clip, PipelineOptions(screenshot_interval_s=0.0001), LIMITS, name="c.mp4")
    assert str(refused.value) == (
        "c.mp4: screenshot_interval_s = 0.0001 s gives 6,000 screenshots over 200.0 s of video, over the "
        "limit of 1,000 (MAX_SCREENSHOTS); use an interval of at least 0.21 s")
    assert job_size(clip, PipelineOptions(screenshot_interval_s=0.21)).screenshots <= 1000
    # one a frame is fine for a clip short enough
    assert check_job(sized(info, 64, 48, frames=900), PipelineOptions(screenshot_interval_s=0.0001), LIMITS,
                     name="c.mp4").screenshots == 900


@pytest.mark.parametrize("start_s", [30.0, 1e18, 1e308])
def test_a_start_past_the_end_is_an_empty_range_without_overflow(info: VideoInfo, start_s: float) -> None:
    with pytest.raises(EmptyVideoError, match=r"c.mp4: no frames in the requested range \(.* s to the end; the "
                                              r"video is 4.0 s long\)"):
        check_job(sized(info, 64, 48), PipelineOptions(start_s=start_s), LIMITS, name="c.mp4")


def test_an_unknown_length_is_left_to_the_pipeline(info: VideoInfo) -> None:
    size = check_job(replace(info, frame_count=None, duration_s=None), PipelineOptions(), LIMITS, name="c.mp4")
    assert size.frames is None and size.screenshots is None


def test_no_limit_means_none() -> None:
    free = ResourceLimits(max_frame_pixels=None, max_network_pixels=None, max_heatmap_pixels=None,
                          max_frames=None, max_screenshots=None)
    assert CLI_LIMITS.max_frames is None and CLI_LIMITS.max_screenshots is None
    assert CLI_LIMITS.max_heatmap_pixels == LIMITS.max_heatmap_pixels
    assert free.max_in_flight_bytes == LIMITS.max_in_flight_bytes


def test_frames_in_flight_are_as_many_as_fit_in_the_byte_budget(info: VideoInfo) -> None:
    budget = LIMITS.max_in_flight_bytes  # 256 MiB
    full_hd = job_size(sized(info, 1920, 1080), PipelineOptions())
    # BGR image + float32 368x656 network input + float32 46x82x57 output
    assert full_hd.frame_bytes == 1920 * 1080 * 3 + 368 * 656 * 12 + 46 * 82 * 57 * 4
    assert frames_in_flight(full_hd.frame_bytes, budget) == MAX_FRAMES_IN_FLIGHT == 16
    uhd = job_size(sized(info, 4096, 2160), PipelineOptions())
    assert frames_in_flight(uhd.frame_bytes, budget) == 8
    huge = job_size(sized(info, 8192, 8192), PipelineOptions())  # 192 MiB of pixels a frame
    assert frames_in_flight(huge.frame_bytes, budget) == 1
    assert frames_in_flight(huge.frame_bytes, 64 * 1024**2) == 1  # larger than the budget: one at a time


def test_frames_in_flight_make_room_for_two_batches_within_the_budget(info: VideoInfo) -> None:
    full_hd = job_size(sized(info, 1920, 1080), PipelineOptions())
    assert frames_in_flight(full_hd.frame_bytes, 2048 * 1024**2, batch_size=32) == 2 * 32 + 4
    assert frames_in_flight(full_hd.frame_bytes, 2048 * 1024**2, batch_size=4) == MAX_FRAMES_IN_FLIGHT
    # The budget still rules: 256 MiB holds 26 full-HD frames, whatever the batch.
    assert frames_in_flight(full_hd.frame_bytes, 256 * 1024**2, batch_size=64) == 26


def test_accurate_quality_is_sized_by_its_largest_scale_and_counts_its_work(info: VideoInfo) -> None:
    video = sized(info, 1920, 1080, frames=1_000)
    balanced = job_size(video, PipelineOptions(net_height=368))
    accurate = job_size(video, PipelineOptions(net_height=368, quality="accurate"))
    assert (balanced.network_height, balanced.passes, balanced.work_factor) == (368, 1, 1.0)
    assert accurate.network_height == 552 and accurate.passes == 8
    assert 9 < accurate.work_factor < 13 and accurate.frame_bytes > 3 * balanced.frame_bytes
    # the network limit applies to the 1.5x input: fits balanced, not accurate
    limits = replace(LIMITS, max_network_pixels=balanced.network_pixels)
    check_job(video, PipelineOptions(net_height=368), limits, name="a.mp4")
    with pytest.raises(LimitExceeded, match="MAX_NETWORK_PIXELS"):
        check_job(video, PipelineOptions(net_height=368, quality="accurate"), limits, name="a.mp4")
    # MAX_FRAMES counts an accurate frame as its share of the work
    frames = replace(LIMITS, max_frames=2_000)
    check_job(video, PipelineOptions(net_height=368), frames, name="a.mp4")
    with pytest.raises(LimitExceeded, match=r"quality accurate \(8 network passes a frame") as refused:
        check_job(video, PipelineOptions(net_height=368, quality="accurate"), frames, name="a.mp4")
    assert refused.value.limit == "MAX_FRAMES"
    # BlazePose has no scales: the quality does not change its size
    assert job_size(video, PipelineOptions(model="blazepose", quality="accurate")).passes == 1


def test_quality_option_parses_and_names_its_choices() -> None:
    assert PipelineOptions.from_mapping({"quality": " Accurate "}).quality == "accurate"
    assert PipelineOptions.from_mapping({}).quality == "balanced"
    with pytest.raises(ValueError, match="quality must be one of fast, balanced, accurate, got 'best'"):
        PipelineOptions.from_mapping({"quality": "best"})


def test_each_model_counts_by_its_cost_per_frame_and_per_network_pixel(info: VideoInfo) -> None:
    """An OpenPose Caffe frame costs about 21 mobilenet_thin frames (bench/caffe_cost.py) and 1.4x
    its memory a network pixel: the same video and options fit for one model and not the other."""
    long = replace(info, frame_count=2_000, duration_s=80.0)
    limits = ResourceLimits(max_frames=36_000)
    assert job_size(long, PipelineOptions()).weighted_frames == 2_000
    check_job(long, PipelineOptions(), limits, name="walk.mp4")
    size = job_size(long, PipelineOptions(model="openpose-caffe-body25"))
    assert size.weighted_frames == 42_000 and size.output_channels == 78
    with pytest.raises(LimitExceeded) as exc:
        check_job(long, PipelineOptions(model="openpose-caffe-body25"), limits, name="walk.mp4")
    message = str(exc.value)
    assert exc.value.limit == "MAX_FRAMES" and "openpose-caffe-body25" in message and "42,000" in message
    wide = replace(info, width=4096, height=1024)
    options = {"net_height": 512}  # 512 x 2048 = 1 Mi network pixels: exactly mobilenet_thin's limit
    check_job(wide, PipelineOptions(**options), LIMITS, name="pano.mp4")
    with pytest.raises(LimitExceeded) as exc:
        check_job(wide, PipelineOptions(model="openpose-caffe-coco", **options), LIMITS, name="pano.mp4")
    assert exc.value.limit == "MAX_NETWORK_PIXELS" and "1.4x mobilenet_thin's memory" in str(exc.value)
    # A frame in flight holds the model's own output channels.
    coco, body25 = (job_size(info, PipelineOptions(model=m)) for m in ("openpose-caffe-coco", "openpose-caffe-body25"))
    assert body25.frame_bytes > coco.frame_bytes == job_size(info, PipelineOptions()).frame_bytes

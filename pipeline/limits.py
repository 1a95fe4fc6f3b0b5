"""What one job asks of a worker, checked against the configured ``config.ResourceLimits``.

The web app checks a job when it is submitted (the probe of the upload and the options are all
it needs) and the pipeline checks it again before it loads anything, so neither a script that
skips the web nor a worker whose settings differ can run a job over the limits. A limit that a
file's header can hide (its frame count) is also enforced while the job runs.

Memory of one run grows with:
- the network input (width x height pixels: OpenVINO's working memory, about 0.4 KB a pixel
  with the pipeline's two inference requests);
- the upsampled heatmaps (network pixels x upsample^2: three float32 buffers of 18 channels at
  1/64 of that, 3.4 bytes each);
- the frames in flight (:func:`frames_in_flight`: as many as fit in a byte budget).

A ``quality`` other than balanced (:mod:`pose.multiscale`) runs the network at several scales:
the network and heatmap limits apply to its largest input (the averaged maps are on that grid),
a frame in flight holds every scale's input and output, and ``MAX_FRAMES`` counts each frame
as its share of the network's work (accurate's ~10.8 frames a frame), so an accurate job may
be about a tenth as long as a balanced one.

Models other than mobilenet_thin count by their cost (``pose.registry``'s ``time_cost`` and
``memory_cost``, per network pixel in units of mobilenet_thin's): their network pixels count
``memory_cost`` times against MAX_NETWORK_PIXELS and their frames ``time_cost`` times against
MAX_FRAMES (an OpenPose Caffe frame costs about 21 mobilenet_thin frames), so that each model's
memory and time stay within what the limits meant.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from config import ResourceLimits
from pose.backends.base import NETWORK_STRIDE
from pose.input_size import BASE_NET_HEIGHT
from pose.multiscale import Augmentation, quality_augmentation, scaled_height
from pose.preprocess import network_input_size
from pose.registry import BY_NAME
from videoio import EmptyVideoError, UnsupportedVideoError, VideoInfo, frames_in_range
from pipeline.options import AUTO_NET_HEIGHT, PipelineOptions

#: Frames smaller than this on a side cannot go through the network (its stride).
MIN_FRAME_SIDE = NETWORK_STRIDE
#: Never more frames in flight than this, however small (enough to keep every stage busy).
MAX_FRAMES_IN_FLIGHT = 16
_OUTPUT_CHANNELS = 57


class LimitExceeded(ValueError):
    """A job over one of the resource limits; the message names the limit and both values.

    limit: the limit's name as the environment sets it (``"MAX_FRAMES"``).
    """

    def __init__(self, message: str, *, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


@dataclass(frozen=True)
class JobSize:
    """What a job will ask of a worker, from the video's probe and the job's options.

    frame_width, frame_height: upright frame size in pixels.
    network_width, network_height: network input size in pixels (width follows the aspect
        ratio unless ``net_width`` is fixed).
    upsample: heatmap upsampling factor.
    frames: frames to process (range and stride applied), None when the length is unknown.
    range_s: seconds of video in the range, None when the length is unknown.
    screenshots: most periodic screenshots the job writes, None when unknown.
    work_factor: the network's work per frame relative to one balanced pass (its input pixels
        over all passes / those of the balanced pass; 1.0 for balanced).
    scale_pixels: network input pixels of every scale together (0: just ``network_pixels``).
    passes: network runs per frame (scales, x 2 with the mirror).
    model: the model's name; time_cost, memory_cost, output_channels: its registry entry's.
    """

    frame_width: int
    frame_height: int
    network_width: int
    network_height: int
    upsample: int
    frames: int | None
    range_s: float | None
    screenshots: int | None
    work_factor: float = 1.0
    scale_pixels: int = 0
    passes: int = 1
    model: str = "openpose"
    time_cost: float = 1.0
    memory_cost: float = 1.0
    output_channels: int = _OUTPUT_CHANNELS

    @property
    def weighted_network_pixels(self) -> int:
        """Network pixels counted by the model's memory cost (mobilenet_thin's pixels)."""
        return math.ceil(self.network_pixels * self.memory_cost)

    @property
    def weighted_frames(self) -> int | None:
        """Frames counted as their share of the network's work (what MAX_FRAMES limits): the
        model's time cost (mobilenet_thin's frames) times the quality's passes' work."""
        return None if self.frames is None else math.ceil(self.frames * self.time_cost * self.work_factor - 1e-9)

    @property
    def frame_pixels(self) -> int:
        return self.frame_width * self.frame_height

    @property
    def network_pixels(self) -> int:
        return self.network_width * self.network_height

    @property
    def heatmap_pixels(self) -> int:
        return self.network_pixels * self.upsample**2

    @property
    def frame_bytes(self) -> int:
        """Bytes one frame in flight holds at most: its uint8 BGR image (later the annotated
        copy, which replaces it), the float32 network input and the float32 network output."""
        output_cells = (self.network_width // NETWORK_STRIDE) * (self.network_height // NETWORK_STRIDE)
        channels = self.output_channels
        if self.passes == 1:
            return self.frame_pixels * 3 + self.network_pixels * 3 * 4 + output_cells * channels * 4
        # Every scale's input, one output per pass and their average, all on the largest grid at most.
        inputs = max(self.scale_pixels, self.network_pixels)
        return self.frame_pixels * 3 + inputs * 3 * 4 + (self.passes + 1) * output_cells * channels * 4


def job_size(info: VideoInfo, options: PipelineOptions) -> JobSize:
    """The :class:`JobSize` of running ``options`` on the video ``info`` describes."""
    width, height = max(info.width, 1), max(info.height, 1)
    # "auto" starts at the base height; the pipeline checks again at the height it chooses.
    net_height = BASE_NET_HEIGHT if options.net_height == AUTO_NET_HEIGHT else options.net_height
    frames = frames_in_range(info, start_s=options.start_s, end_s=options.end_s, stride=options.frame_stride)
    in_range = frames_in_range(info, start_s=options.start_s, end_s=options.end_s)
    range_s = None if in_range is None else in_range / float(info.fps)
    return JobSize(frame_width=info.width, frame_height=info.height, upsample=options.upsample, frames=frames,
                   range_s=range_s, screenshots=0 if options.keypoints_only else _screenshots(
                       frames, range_s, options.screenshot_interval_s),
                   **_network(width, height, net_height, options), **_costs(options))


def _costs(options: PipelineOptions) -> dict:
    """JobSize's model fields: the registry entry's costs and output channels."""
    entry = BY_NAME.get(options.model)
    return {} if entry is None else {"model": entry.name, "time_cost": entry.time_cost,
                                     "memory_cost": entry.memory_cost, "output_channels": entry.output_channels}


def _network(width: int, height: int, net_height: int, options: PipelineOptions) -> dict:
    """JobSize's network fields for a picture of ``width`` x ``height``: the largest scale's
    input, and the work and passes of the job's quality (pose.multiscale)."""
    augmentation = quality_augmentation(options.quality) if options.model == "openpose" else Augmentation()
    sizes = [network_input_size(width, height, net_height=scaled_height(net_height, scale),
                                net_width=None if options.net_width is None else scaled_height(options.net_width, scale))
             for scale in augmentation.scales]
    net_w, net_h = max(sizes, key=lambda s: s[0] * s[1])
    base_w, base_h = network_input_size(width, height, net_height=net_height, net_width=options.net_width)
    scale_pixels = sum(w * h for w, h in sizes)
    mirror = 2 if augmentation.flip else 1
    return dict(network_width=net_w, network_height=net_h, work_factor=scale_pixels * mirror / (base_w * base_h),
                scale_pixels=scale_pixels, passes=augmentation.passes)


def check_image(width: int, height: int, options: PipelineOptions, limits: ResourceLimits, *, name: str) -> JobSize:
    """One photo of an image job (upright ``width`` x ``height``) against the pixel and network
    limits (``max_image_pixels``; the network and heatmap limits as for a video's frame).
    "auto" is the base height for a photo. Raises LimitExceeded naming the photo."""
    pixels = width * height
    if limits.max_image_pixels is not None and pixels > limits.max_image_pixels:
        raise LimitExceeded(f"{name}: is {width} x {height} = {pixels:,} pixels, over the limit of "
                            f"{limits.max_image_pixels:,} (MAX_IMAGE_PIXELS); scale it down first",
                            limit="MAX_IMAGE_PIXELS")
    net_height = BASE_NET_HEIGHT if options.net_height == AUTO_NET_HEIGHT else options.net_height
    size = JobSize(frame_width=width, frame_height=height, upsample=options.upsample, frames=1, range_s=None,
                   screenshots=0, **_network(width, height, net_height, options), **_costs(options))
    _check_network(size, options, limits, name)
    return size


def _screenshots(frames: int | None, range_s: float | None, interval_s: float) -> int | None:
    """At most one a processed frame, and one at the start of each interval."""
    if interval_s <= 0 or frames == 0:
        return 0
    if frames is None or range_s is None:
        return None
    periods = range_s / interval_s
    return min(frames, math.floor(periods) + 1 if math.isfinite(periods) else frames)


def check_job(info: VideoInfo, options: PipelineOptions, limits: ResourceLimits, *, name: str) -> JobSize:
    """The job's size if it is within ``limits``; ``name`` is the video's name for messages.

    Raises UnsupportedVideoError for frames smaller than :data:`MIN_FRAME_SIDE`,
    EmptyVideoError for a range that holds no frame of the video, LimitExceeded otherwise.
    """
    if info.width < MIN_FRAME_SIDE or info.height < MIN_FRAME_SIDE:
        raise UnsupportedVideoError(
            f"{name} is {info.width}x{info.height} pixels; frames must be at least "
            f"{MIN_FRAME_SIDE} pixels on each side")
    size = job_size(info, options)
    _check_frame_size(size, limits, name)
    _check_network(size, options, limits, name)
    if size.frames == 0:
        raise EmptyVideoError(empty_range_message(name, info, options))
    if limits.max_frames is not None and size.frames is not None and size.weighted_frames > limits.max_frames:
        what = f"{size.frames:,} frames to process"
        if size.time_cost != 1.0:
            what += f" with the {size.model} model, which costs about {size.time_cost:g}x mobilenet_thin a frame"
        if size.passes > 1:
            what += (f" at quality {options.quality} ({size.passes} network passes a frame, "
                     f"{size.work_factor:.1f}x the work")
        if size.time_cost != 1.0 or size.passes > 1:
            what += f"{': ' if size.passes > 1 else ' ('}{size.weighted_frames:,} frames' worth)"
        raise frames_exceeded(name, what, limits.max_frames)
    _check_screenshots(size, options, limits, name)
    return size


def _check_frame_size(size: JobSize, limits: ResourceLimits, name: str) -> None:
    if limits.max_frame_pixels is not None and size.frame_pixels > limits.max_frame_pixels:
        raise LimitExceeded(
            f"{name}: its frames are {size.frame_width} x {size.frame_height} = {size.frame_pixels:,} "
            f"pixels, over the limit of {limits.max_frame_pixels:,} (MAX_FRAME_PIXELS); scale the "
            "video down first", limit="MAX_FRAME_PIXELS")


def _check_network(size: JobSize, options: PipelineOptions, limits: ResourceLimits, name: str) -> None:
    if options.net_width is None:
        why = f"; the width follows the video's {size.frame_width}x{size.frame_height} aspect ratio"
        smaller = "net_height"
    else:
        why, smaller = "", "net_height or net_width"
    sides = f"{size.network_height} x {size.network_width}"
    if limits.max_network_pixels is not None and size.weighted_network_pixels > limits.max_network_pixels:
        counted = "" if size.memory_cost == 1.0 else (
            f", counted as {size.weighted_network_pixels:,} for the {size.model} model, which needs about "
            f"{size.memory_cost:g}x mobilenet_thin's memory a pixel")
        raise LimitExceeded(
            f"{name}: net_height x net_width = {sides} = {size.network_pixels:,} network input pixels{counted} "
            f"exceeds the limit of {limits.max_network_pixels:,} (MAX_NETWORK_PIXELS{why}); "
            f"choose a smaller {smaller}", limit="MAX_NETWORK_PIXELS")
    if limits.max_heatmap_pixels is not None and size.heatmap_pixels > limits.max_heatmap_pixels:
        raise LimitExceeded(
            f"{name}: net_height x net_width x upsample^2 = {sides} x {size.upsample}^2 = "
            f"{size.heatmap_pixels:,} exceeds the limit of {limits.max_heatmap_pixels:,} "
            f"(MAX_HEATMAP_PIXELS{why}); choose a smaller upsample or {smaller}", limit="MAX_HEATMAP_PIXELS")


def _check_screenshots(size: JobSize, options: PipelineOptions, limits: ResourceLimits, name: str) -> None:
    most = limits.max_screenshots
    if most is None or size.screenshots is None or size.screenshots <= most:
        return
    interval = options.screenshot_interval_s
    fits = ("screenshot_interval_s=0 (none)" if most < 2 or not size.range_s
            else f"an interval of at least {_round_up(size.range_s / (most - 1))} s")
    raise LimitExceeded(
        f"{name}: screenshot_interval_s = {interval:g} s gives {size.screenshots:,} screenshots over "
        f"{size.range_s:.1f} s of video, over the limit of {most:,} (MAX_SCREENSHOTS); use {fits}",
        limit="MAX_SCREENSHOTS")


def _round_up(seconds: float) -> str:
    """``seconds`` rounded up to 2 significant digits, as text (``0.0123`` -> ``0.013``)."""
    digits = 1 - math.floor(math.log10(seconds))
    return f"{math.ceil(seconds * 10**digits) / 10**digits:g}"


def frames_exceeded(name: str, what: str, limit: int) -> LimitExceeded:
    """The MAX_FRAMES refusal: at submit ("36,500 frames to process") and while running."""
    return LimitExceeded(
        f"{name}: {what} exceeds the limit of {limit:,} (MAX_FRAMES); process a part of it "
        "(start_s, end_s) or every n-th frame (frame_stride)", limit="MAX_FRAMES")


def empty_range_message(name: str, info: VideoInfo, options: PipelineOptions) -> str:
    """"clip.mp4: no frames in the requested range (30 s to the end; the video is 0.4 s long)"."""
    end = "the end" if options.end_s is None else f"{options.end_s:g} s"
    length = f"; the video is {info.duration_s:.1f} s long" if info.duration_s else ""
    return f"{name}: no frames in the requested range ({options.start_s:g} s to {end}{length})"


def frames_in_flight(frame_bytes: int, budget_bytes: int, *, batch_size: int = 1) -> int:
    """How many frames of ``frame_bytes`` (:attr:`JobSize.frame_bytes`) the pipeline keeps
    between decoding and encoding with ``budget_bytes``: as many as fit, at least 1 (a frame
    larger than the budget still goes through, alone), at most :data:`MAX_FRAMES_IN_FLIGHT`, or
    two batches and a few frames when inference takes ``batch_size`` frames at a time."""
    most = max(MAX_FRAMES_IN_FLIGHT, 2 * batch_size + 4)
    return max(1, min(most, budget_bytes // max(frame_bytes, 1)))

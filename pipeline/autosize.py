"""``net_height="auto"``: look at a few frames spread over the video, then choose the input size.

Before pass 1, up to :data:`SAMPLE_FRAMES` frames at evenly spaced times of the processed range
(fewer in a short range: :func:`sample_count`) are decoded (a short range front to back, a long
one by seeking) and run through the network at the base height (368); the whole-person box heights of
the people found go to :func:`pose.input_size.auto_net_height`. That costs at most a dozen
inferences (about a second on a 2-core CPU), and only videos whose people are small pay for a
larger input.
A video whose length is unknown is sampled once a second from the start of its range.

What the size aims at is a :class:`pose.input_size.SizeGoal`: ``DETECTION`` for one video (the
default), ``PRECISION`` for the views of a multi-view job (``pipeline.multiview``). A chosen
height over a resource limit gives way to the largest one between it and the base that fits.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path
from typing import Iterator

import numpy as np

from config import ResourceLimits
from pose import InferenceBackend, PoseEstimator
from pose.boxes import whole_person_box
from pose.input_size import BASE_NET_HEIGHT, DETECTION, HEIGHT_STEP, SizeGoal
from videoio import VideoError, VideoInfo, VideoReader, frames_in_range
from pipeline.limits import JobSize, LimitExceeded, check_job
from pipeline.options import PipelineOptions

#: Frames looked at to size the people: one per FRAMES_PER_SAMPLE of the range, within
#: [MIN_SAMPLES, SAMPLE_FRAMES].
SAMPLE_FRAMES = 12
MIN_SAMPLES = 4
FRAMES_PER_SAMPLE = 50
#: A range this short is decoded once, front to back, rather than sought once per sample.
SEQUENTIAL_FRAMES = 1500


@dataclass(frozen=True)
class SizeChoice:
    """What "auto" chose and why. median_person_px: the people's median whole-person height at
    the base network height (None when nobody was found); people: how many were measured."""

    net_height: int
    sampled_frames: int
    people: int
    median_person_px: float | None

    def to_dict(self) -> dict:
        return {"net_height": self.net_height, "sampled_frames": self.sampled_frames, "people": self.people,
                "median_person_px": None if self.median_person_px is None else round(self.median_person_px, 1)}


def resolve_auto_height(source: Path, name: str, info: VideoInfo, options: PipelineOptions,
                        backend: InferenceBackend, limits: ResourceLimits, size: JobSize,
                        goal: SizeGoal = DETECTION) -> tuple[PipelineOptions, JobSize, SizeChoice]:
    """``options`` (net_height "auto") at the height chosen for ``source`` towards ``goal`` with
    the loaded OpenPose ``backend``, that size checked against ``limits``, and the choice. When
    the chosen height is over a limit: the largest multiple of 16 below it that fits, else the
    base height (and its already checked ``size``)."""
    base = replace(options, net_height=BASE_NET_HEIGHT)
    sampler = PoseEstimator(backend, net_height=BASE_NET_HEIGHT, net_width=options.net_width,
                            upsample=options.upsample)
    choice = choose_net_height(source, info, base, sampler, goal)
    for height in range(choice.net_height, BASE_NET_HEIGHT, -HEIGHT_STEP):
        chosen = replace(options, net_height=height)
        try:
            return chosen, check_job(info, chosen, limits, name=name), replace(choice, net_height=height)
        except LimitExceeded:
            continue
    return base, size, replace(choice, net_height=BASE_NET_HEIGHT)


def choose_net_height(source: Path, info: VideoInfo, options: PipelineOptions, estimator: PoseEstimator,
                      goal: SizeGoal = DETECTION) -> SizeChoice:
    """The network height for ``source`` towards ``goal``; ``estimator`` runs at
    :data:`BASE_NET_HEIGHT`.

    A frame that cannot be read is skipped: pass 1 reports a damaged file better than this can.
    """
    heights: list[float] = []
    sampled = 0
    for image in _sample_images(source, info, options):
        sampled += 1
        for person in estimator.estimate(image):
            if person.num_parts:
                _, y1, _, y2 = whole_person_box(person.keypoints, image_size=(image.shape[1], image.shape[0]))
                heights.append(y2 - y1)
    height = goal.net_height(heights, info.height)
    median = float(np.median(heights)) * BASE_NET_HEIGHT / info.height if heights else None
    return SizeChoice(net_height=height, sampled_frames=sampled, people=len(heights), median_person_px=median)


def sample_count(frames: int) -> int:
    """Frames to sample from a range of ``frames``: one per :data:`FRAMES_PER_SAMPLE`, at least
    :data:`MIN_SAMPLES` and at most :data:`SAMPLE_FRAMES` (a short clip pays little for it)."""
    return max(MIN_SAMPLES, min(SAMPLE_FRAMES, frames // FRAMES_PER_SAMPLE))


def _sample_images(source: Path, info: VideoInfo, options: PipelineOptions) -> Iterator[np.ndarray]:
    start = options.start_s
    in_range = frames_in_range(info, start_s=start, end_s=options.end_s)
    if in_range is None:  # length unknown: one frame a second from the start of the range
        yield from _decoded(source, info, options, stride=max(1, round(float(info.fps))), count=SAMPLE_FRAMES)
        return
    count = sample_count(in_range)
    if in_range <= SEQUENTIAL_FRAMES:  # decoding the range once is cheaper than a seek per sample
        stride = max(1, in_range // count)
        yield from _decoded(source, info, options, stride=stride, count=count,
                            first_s=(stride // 2) / float(info.fps))
        return
    span = in_range / float(info.fps)
    for i in range(count):
        at = start + span * (i + 0.5) / count
        try:
            with VideoReader(source, start_s=at, end_s=at + max(span / count, 1.0 / float(info.fps)),
                             info=info) as reader:
                frame = next(iter(reader), None)
        except VideoError:
            continue
        if frame is not None:
            yield frame.image


def _decoded(source: Path, info: VideoInfo, options: PipelineOptions, *, stride: int, count: int,
             first_s: float = 0.0) -> Iterator[np.ndarray]:
    """Every ``stride``-th frame of the range from ``first_s`` into it, ``count`` at most, decoded
    front to back (the reader converts only the frames it yields)."""
    try:
        with VideoReader(source, start_s=options.start_s + first_s, end_s=options.end_s, stride=stride,
                         info=info) as reader:
            for frame in islice(reader, count):
                yield frame.image
    except VideoError:
        return

"""``net_height="auto"``: look at a few frames spread over the video, then choose the input size.

Before pass 1, :data:`SAMPLE_FRAMES` frames at evenly spaced times of the processed range are
decoded and run through the network at the base height (368); the whole-person box heights of
the people found go to :func:`pose.input_size.auto_net_height`. That costs a dozen inferences,
well under a second of a job, and only videos whose people are small pay for a larger input.
A video whose length is unknown is sampled once a second from the start of its range.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from pose import PoseEstimator
from pose.boxes import whole_person_box
from pose.input_size import BASE_NET_HEIGHT, auto_net_height
from videoio import VideoError, VideoInfo, VideoReader, frames_in_range
from workers.options import PipelineOptions

#: Frames looked at to size the people.
SAMPLE_FRAMES = 12


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


def choose_net_height(source: Path, info: VideoInfo, options: PipelineOptions, estimator: PoseEstimator) -> SizeChoice:
    """The network height for ``source``; ``estimator`` runs at :data:`BASE_NET_HEIGHT`.

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
    height = auto_net_height(heights, info.height)
    median = float(np.median(heights)) * BASE_NET_HEIGHT / info.height if heights else None
    return SizeChoice(net_height=height, sampled_frames=sampled, people=len(heights), median_person_px=median)


def _sample_images(source: Path, info: VideoInfo, options: PipelineOptions) -> Iterator[np.ndarray]:
    start = options.start_s
    in_range = frames_in_range(info, start_s=start, end_s=options.end_s)
    if in_range is None or not info.fps:
        yield from _from_start(source, options, step_s=1.0)
        return
    span = in_range / float(info.fps)
    for i in range(SAMPLE_FRAMES):
        at = start + span * (i + 0.5) / SAMPLE_FRAMES
        try:
            with VideoReader(source, start_s=at, end_s=at + max(span / SAMPLE_FRAMES, 1.0 / float(info.fps))) as reader:
                frame = next(iter(reader), None)
        except VideoError:
            continue
        if frame is not None:
            yield frame.image


def _from_start(source: Path, options: PipelineOptions, *, step_s: float) -> Iterator[np.ndarray]:
    """One frame a ``step_s`` from the range's start, :data:`SAMPLE_FRAMES` at most."""
    next_s = options.start_s
    taken = 0
    try:
        with VideoReader(source, start_s=options.start_s, end_s=options.end_s) as reader:
            for frame in reader:
                if frame.time_s + 1e-6 >= next_s:
                    yield frame.image
                    taken += 1
                    next_s = frame.time_s + step_s
                    if taken >= SAMPLE_FRAMES:
                        return
    except VideoError:
        return

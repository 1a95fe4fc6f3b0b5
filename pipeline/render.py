"""Pass 2 of the pipeline: decode the video again, draw the final people, encode, export.

Three threads overlap the work, joined by bounded queues (order is kept, the frames held at once
are bounded by the job's memory budget):

    decode (PyAV) -> drawing, exports, screenshots (the calling thread) -> encode (libx264)

The people of each frame come from the final track table (:mod:`pipeline.tracks`), looked up by
the frame's source index, so pass 2 needs no model. With ``keypoints_only`` nothing is decoded,
drawn or encoded: :func:`export_only` writes the exports from the table alone.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from videoio import VideoInfo, VideoReader, VideoWriter
from pipeline.analyse import PipelineCancelled, same_size, timed
from pipeline.frames import FrameProcessor, frame_people
from pipeline.options import PipelineOptions
from pipeline.poselog import FrameIndex
from pipeline.stages import Stages


@dataclass
class Rendered:
    frames: int
    busy: dict[str, float] = field(default_factory=dict)


def export_only(name: str, final_rows: np.ndarray, frame_table: np.ndarray, frames: FrameProcessor, *,
                on_frame: Callable[[int], None], should_cancel: Callable[[], bool]) -> Rendered:
    """Write the exports of every processed frame (``frame_table``: ``frame``, ``time_s``) from
    ``final_rows`` alone, without the video."""
    t0 = time.perf_counter()
    people = FrameIndex(final_rows, key="frame")
    for done, (frame_index, time_s) in enumerate(frame_table, start=1):
        if should_cancel():
            raise PipelineCancelled(f"processing {name} was cancelled")
        frames.write(int(frame_index), float(time_s), frame_people(people.rows_of(int(frame_index)), frames.skeleton))
        on_frame(done)
    return Rendered(frames=len(frame_table), busy={"export": time.perf_counter() - t0})


def render(source: Path, name: str, info: VideoInfo, options: PipelineOptions, final_rows: np.ndarray,
           frames: FrameProcessor, writer: VideoWriter, *, frames_in_flight: int,
           on_frame: Callable[[int], None], should_cancel: Callable[[], bool]) -> Rendered:
    """Draw ``final_rows`` (sorted by frame) over ``source``'s frames into ``writer``, through
    ``frames`` (exports and screenshots). on_frame(done): progress after every frame;
    should_cancel as in pass 1."""
    busy = {"decode": 0.0, "annotate": 0.0, "encode": 0.0}
    people = FrameIndex(final_rows, key="frame")
    reader = VideoReader(source, start_s=options.start_s, end_s=options.end_s, stride=options.frame_stride, info=info)
    done = 0
    try:
        with Stages(queue_size=4, in_flight=frames_in_flight) as stages:
            decoded = stages.source("decode", lambda: timed(same_size(reader, info, name), busy, "decode"))
            to_encode = stages.new_queue()
            stages.sink("encode", to_encode, lambda item: _encode(writer, item, options.start_s, busy))
            for frame in stages.iterate(decoded):
                if should_cancel():
                    raise PipelineCancelled(f"processing {name} was cancelled")
                t0 = time.perf_counter()
                image = frames.process(frame, frame_people(people.rows_of(frame.index), frames.skeleton))
                busy["annotate"] += time.perf_counter() - t0
                stages.put(to_encode, (image, frame.time_s))
                done += 1
                on_frame(done)
            stages.end(to_encode)
            stages.join()
    finally:
        reader.close()
    return Rendered(frames=done, busy=busy)


def _encode(writer: VideoWriter, item: tuple[np.ndarray, float], start_s: float, busy: dict[str, float]) -> None:
    image, time_s = item
    t0 = time.perf_counter()
    writer.write(image, time_s=max(0.0, time_s - start_s))
    busy["encode"] += time.perf_counter() - t0

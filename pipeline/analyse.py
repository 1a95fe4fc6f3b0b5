"""Pass 1 of the pipeline: every frame's people, tracked online, kept compactly in a file.

Threads overlap the work, joined by bounded queues (order is kept; the frames held at once are
as many as the job's memory budget allows):

    decode (PyAV) -> batches of ``batch_size`` frames -> preprocess + inference, one call per
        batch (OpenVINO releases the GIL; the backend's ``parallel_requests`` batches at once)
        -> post-processing, the confidence filter and the online tracker (the calling thread)

The estimator is any of :func:`pose.models.load_estimator`'s: its three stages
(``preprocess``, ``infer``, ``postprocess``) and ``parallel_requests`` (how many inferences may
run at once; 1 keeps them in frame order, which a tracking model such as BlazePose needs). Its
``skeleton`` says what the keypoints are.
With ``postprocess_workers`` > 0 the post-processing (peaks, PAF assembly) runs in that many
processes instead (:mod:`pipeline.postprocess_pool`): each output is handed over as soon as its
batch is inferred, and the calling thread takes the people back in frame order for the tracker.

Each person of each frame becomes one :mod:`pipeline.poselog` row whose ``track`` is the online
tracker's tracklet serial (``Sort(report_unconfirmed=True)``): which tracklets were confirmed,
and so are people, is decided over the whole video later (:mod:`pipeline.tracks`).
"""
from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from pose import Person
from pose.boxes import whole_person_box
from tracking import Sort
from videoio import EmptyVideoError, Frame, UnsupportedVideoError, VideoInfo, VideoReader
from pipeline.limits import empty_range_message
from pipeline.options import PipelineOptions
from pipeline.poselog import NO_TRACK, PoseLog
from pipeline.postprocess_pool import PostprocessPool
from pipeline.stages import Stages

POSES_FILE = "poses.bin"
#: ByteTrack's second round: skeletons with fewer than half their parts are matched only to
#: tracks the first round left over, and never start a track (bench/track_replay.py).
LOW_SCORE_THRESHOLD = 0.5


class PipelineCancelled(Exception):
    """The cancel check asked to stop; nothing was written to the output folder."""


@dataclass
class Analysis:
    """What pass 1 found. rows: poselog rows (memory-mapped); frame_table: ``frame`` (source
    index) and ``time_s`` of each processed frame, by ``seq``; confirmed: tracklet serials the
    tracker confirmed; busy: seconds each stage worked."""

    rows: np.ndarray
    frame_table: np.ndarray
    confirmed: set[int]
    decode_errors: int
    truncated: bool
    busy: dict[str, float] = field(default_factory=dict)

    @property
    def frames(self) -> int:
        return len(self.frame_table)


def keep_confident(persons: list[Person], *, keypoint_threshold: float, max_people: int | None) -> list[Person]:
    """Drop parts below ``keypoint_threshold`` (and people left with none); keep the best
    ``max_people``. ``persons`` come ranked best first (PoseEstimator's order), which this keeps."""
    kept: list[Person] = []
    for person in persons:
        if keypoint_threshold > 0:
            keypoints = person.keypoints.copy()
            keypoints[keypoints[:, 2] < keypoint_threshold] = 0.0
            person = Person(keypoints=keypoints, score=person.score, world=person.world)
        if person.num_parts:
            kept.append(person)
    return kept if max_people is None else kept[:max_people]


def make_tracker(options: PipelineOptions, fps: float) -> Sort:
    """The online tracker the options ask for, at the output frame rate ``fps``."""
    buffer_s = options.lost_track_buffer_s
    return Sort(max_age=options.max_age, min_hits=options.min_hits, iou_threshold=options.iou_threshold,
                lost_track_buffer_s=buffer_s, fps=fps if buffer_s is not None else None,
                low_score_threshold=LOW_SCORE_THRESHOLD, report_unconfirmed=True)


def analyse(source: Path, name: str, info: VideoInfo, options: PipelineOptions, estimator,
            work_dir: Path, *, frames_in_flight: int, check_frame_count: Callable[[int, int | None], None],
            on_frame: Callable[[int, int | None], None], should_cancel: Callable[[], bool],
            batch_size: int = 1, postprocess_workers: int = 0) -> Analysis:
    """Run pass 1 over ``source`` (see the module docstring).

    check_frame_count(done, expected): raises when one more frame would be over the job's limit.
    on_frame(done, expected): progress, after every frame. should_cancel: polled every frame;
    True raises :class:`PipelineCancelled`.
    batch_size: frames per inference call, cut to ``frames_in_flight`` (a batch must fit).
    postprocess_workers: processes for peaks and assembly (:mod:`pipeline.postprocess_pool`);
        0 = in this thread. Either way the tracker sees the frames in order.
    """
    busy = {"decode": 0.0, "preprocess": 0.0, "inference": 0.0, "postprocess": 0.0, "tracking": 0.0}
    fps = float(info.fps / options.frame_stride)
    tracker = make_tracker(options, fps)
    skeleton = estimator.skeleton
    estimator.reset()  # a tracking model (BlazePose) must not follow the last video's person
    log = PoseLog(work_dir / POSES_FILE, num_parts=skeleton.num_parts, world=skeleton.has_world)
    confirmed: set[int] = set()
    frame_indexes: list[int] = []
    frame_times: list[float] = []
    reader = VideoReader(source, start_s=options.start_s, end_s=options.end_s, stride=options.frame_stride, info=info)
    expected = reader.frames_expected
    pool = None
    try:
        if postprocess_workers > 0:
            pool = PostprocessPool(postprocess_workers, upsample=estimator.upsample, params=estimator.params,
                                   layout=estimator.layout)
        with Stages(queue_size=4, in_flight=frames_in_flight) as stages:
            decoded = stages.source("decode", lambda: timed(same_size(reader, info, name), busy, "decode"))
            batches = stages.group("batch", decoded, max(1, min(batch_size, frames_in_flight)))
            inferred = stages.map("inference", batches, lambda frames: _infer(estimator, frames, busy, pool),
                                  workers=max(1, int(getattr(estimator, "parallel_requests", 1) or 1)))
            for batch in stages.iterate(inferred):
                batch.reverse()
                while batch:  # popped, so that a frame done is let go (its in-flight slot is free)
                    frame, prepared, output = batch.pop()
                    if should_cancel():
                        raise PipelineCancelled(f"processing {name} was cancelled")
                    seq = len(frame_indexes)
                    check_frame_count(seq, expected)
                    people, seconds = _people(estimator, prepared, output, stages)
                    persons = keep_confident(people, keypoint_threshold=options.keypoint_threshold,
                                             max_people=options.max_people)
                    t1 = time.perf_counter()
                    _track(tracker, log, confirmed, seq, frame, persons, skeleton)
                    busy["postprocess"] += seconds
                    busy["tracking"] += time.perf_counter() - t1
                    frame_indexes.append(frame.index)
                    frame_times.append(frame.time_s)
                    del frame, prepared, output
                    stages.done()
                    on_frame(seq + 1, expected)
        if not frame_indexes:
            raise EmptyVideoError(empty_range_message(name, info, options))
        rows = log.close()
    except BaseException:
        log.abort()
        raise
    finally:
        reader.close()
        if pool is not None:
            pool.close()
    table = np.zeros(len(frame_indexes), dtype=[("frame", "<i4"), ("time_s", "<f8")])
    table["frame"], table["time_s"] = frame_indexes, frame_times
    return Analysis(rows=rows, frame_table=table, confirmed=confirmed, decode_errors=reader.decode_errors,
                    truncated=reader.truncated, busy=busy)


def _track(tracker: Sort, log: PoseLog, confirmed: set[int], seq: int, frame: Frame, persons, skeleton) -> None:
    boxes = np.array([whole_person_box(p.keypoints, skeleton=skeleton) for p in persons],
                     dtype=np.float64).reshape(-1, 4)
    # The share of parts found is the skeleton's score for the tracker's two rounds.
    scores = np.array([p.num_parts / skeleton.num_parts for p in persons], dtype=np.float64)
    taken: dict[int, tuple[int, np.ndarray]] = {}
    for obj in tracker.update(boxes, scores):
        if obj.detection_index is not None:
            taken[obj.detection_index] = (obj.serial, obj.box)
            if obj.track_id is not None:
                confirmed.add(obj.serial)
    for index, person in enumerate(persons):
        serial, box = taken.get(index, (NO_TRACK, boxes[index]))
        log.add(seq, frame.index, frame.time_s, track=serial, score=person.score, box=box,
                keypoints=person.keypoints, world=person.world)


def same_size(frames: Iterable[Frame], info: VideoInfo, name: str) -> Iterator[Frame]:
    """``frames``, checked to keep the probed size: the job's limits and its frames in flight were
    sized for it, and a stream can switch to larger frames part way (a new H.264 SPS)."""
    for frame in frames:
        height, width = frame.image.shape[:2]
        if (width, height) != (info.width, info.height):
            raise UnsupportedVideoError(
                f"{name}: its frames change size from {info.width}x{info.height} to {width}x{height} at "
                f"frame {frame.index}; videos whose frame size changes are not supported")
        yield frame


def timed(items: Iterable, busy: dict[str, float], key: str) -> Iterator:
    """``items``, adding the time spent producing each to ``busy[key]``."""
    iterator = iter(items)
    while True:
        t0 = time.perf_counter()
        try:
            item = next(iterator)
        except StopIteration:
            return
        busy[key] += time.perf_counter() - t0
        yield item



def _infer(estimator, frames: list[Frame], busy: dict[str, float],
           pool: PostprocessPool | None) -> list[tuple[Frame, Any, Any]]:
    """Preprocess and infer one batch of frames (one call where the estimator takes batches,
    OpenPose's ``infer_batch``; else frame by frame); with a pool, hand each output to it at
    once (the frame then carries its input's geometry and a future instead)."""
    t0 = time.perf_counter()
    prepared = [estimator.preprocess(frame.image, timestamp_ms=round(frame.time_s * 1000)) for frame in frames]
    t1 = time.perf_counter()
    infer_batch = getattr(estimator, "infer_batch", None)
    raws = infer_batch(prepared) if infer_batch is not None else [estimator.infer(p) for p in prepared]
    busy["preprocess"] += t1 - t0
    busy["inference"] += time.perf_counter() - t1
    if pool is None:
        return list(zip(frames, prepared, raws))
    return [(frame, p.geometry, pool.submit(raw, p.geometry)) for frame, p, raw in zip(frames, prepared, raws)]


def _people(estimator, prepared: Any, output: Any, stages: Stages) -> tuple[list[Person], float]:
    """One frame's people and the seconds their post-processing took: from the pool's future,
    or done here from the network output."""
    if isinstance(output, Future):
        return stages.result(output)
    t0 = time.perf_counter()
    people = estimator.postprocess(output, prepared)
    return people, time.perf_counter() - t0

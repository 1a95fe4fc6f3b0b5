"""Several synchronised views and their calibration in, people in 3D out (no Flask, no Celery).

:func:`process_views` checks everything it can before the slow part (2 to :data:`MAX_VIEWS`
videos, each readable, one frame rate, a calibration that fits every video), then runs every
view through the 2D pipeline (:func:`pipeline.video.process_video`, one loaded model for all),
reads their keypoints back, puts the views on one time line (given offsets, or estimated:
:mod:`multiview.sync`), fuses them (:mod:`multiview.fusion`, :mod:`multiview.tracks3d`) and
writes the 3D exports (:mod:`multiview.exports`) beside the views' own folders::

    OUT/keypoints_3d.csv, angles_3d.csv, multiview.json, calibration.toml,
        people/person_<id>.trc, people/person_<id>_angles_3d.mot,
        views/<video stem>/...   (each view's 2D outputs, as ``posestudio process`` writes them)

Like the 2D pipeline, everything is written into a folder beside ``out_dir`` and renamed into
place only when complete: an error or a cancel leaves ``out_dir`` as it was.

net_height "auto" (the default) sizes each view's network input for triangulation, not for
detection: :data:`pose.input_size.PRECISION` (the median person 160 px, 20 cells, tall at the
input, up to 656) instead of the 2D pipeline's DETECTION (64 px, up to 512). Each view is sized
from its own people, so every camera places the parts to about the same fraction of a person;
the heights chosen are in multiview.json (``network``, and per camera ``network_input``).
"""
from __future__ import annotations

import json
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from config import ResourceLimits
from multiview.calibration import read_calibration, write_toml
from multiview.check import check_calibration
from multiview.errors import FusionCancelled, MultiviewError
from multiview.exports import KEYPOINTS_3D_CSV, write_angles, write_keypoints_csv, write_trcs
from multiview.reconstruct import reconstruct
from multiview.sync import given_offsets
from multiview.tracks3d import Tracking3DSettings
from multiview.views import read_keypoints_csv
from pose.backends import AUTO, Device
from pose.input_size import PRECISION
from pose.models import MODEL_SKELETONS
from videoio import VideoError, probe
from pipeline.execution import Execution
from pipeline.exports import KEYPOINTS_CSV
from pipeline.options import AUTO_NET_HEIGHT, PipelineOptions
from pipeline.video import PipelineCancelled, move_into_place, load_pipeline_backend, process_video
from pipeline.progress import Progress

MIN_VIEWS, MAX_VIEWS = 2, 8
SUMMARY_JSON = "multiview.json"
CALIBRATION_COPY = "calibration.toml"
VIEWS_DIR = "views"
#: An estimated offset less confident than this is reported as a warning.
MIN_OFFSET_CONFIDENCE = 0.05


@dataclass(frozen=True)
class MultiviewProgress:
    """stage: "views" (the 2D passes) or "fusion"; view: 1-based view being analysed (0 in
    fusion); views: how many; view_progress: the 2D pipeline's Progress of that view (None in
    fusion); fraction: of the whole job, 0..1 (the 2D passes weighted :data:`VIEWS_SHARE`)."""

    stage: str
    view: int
    views: int
    view_progress: Progress | None
    fraction: float


#: The 2D passes' share of a multi-view job's time (bench/multiview.py: the fusion is seconds).
VIEWS_SHARE = 0.95


@dataclass(frozen=True)
class MultiviewResult:
    out_dir: Path
    summary: dict[str, Any]
    files: tuple[str, ...]
    warnings: tuple[str, ...]
    timings: dict[str, float]


def process_views(calibration: Path, videos: Sequence[Path], out_dir: Path,
                  options: PipelineOptions = PipelineOptions(keypoints_only=True), *,
                  offsets: Sequence[int] | None = None, names: Sequence[str] | None = None,
                  backend=None, model_path: Path | None = None, device: Device = AUTO,
                  on_progress: Callable[[MultiviewProgress], None] | None = None,
                  should_cancel: Callable[[], bool] | None = None,
                  limits: ResourceLimits = ResourceLimits(), execution: Execution = Execution(),
                  tracking: Tracking3DSettings | None = None) -> MultiviewResult:
    """Process the views (module docstring). ``names``: the videos' names as their owner knows
    them (default the file names; cameras are matched to videos by these names); ``offsets``:
    one per video in frames (:mod:`multiview.sync`), None = estimate them.

    Raises multiview.MultiviewError (CalibrationError, SyncError, FusionError: bad input, with
    the camera or video named), videoio.VideoError (a video that cannot be read, named),
    pipeline.video.PipelineCancelled and what process_video raises."""
    videos = [Path(v) for v in videos]
    names = list(names) if names is not None else [v.name for v in videos]
    if not MIN_VIEWS <= len(videos) <= MAX_VIEWS:
        raise MultiviewError(f"{len(videos)} video(s): give {MIN_VIEWS} to {MAX_VIEWS} synchronised views of one scene")
    if len(set(names)) != len(names):
        raise MultiviewError("two videos have the same name: each video is matched to its camera by name")
    if options.start_s or options.frame_stride != 1:
        raise MultiviewError("start and stride are not for several views (their frames are matched one by one): "
                             "give the whole videos, or --end")
    started = time.perf_counter()
    cameras = read_calibration(calibration)
    infos = []
    for video, name in zip(videos, names):
        try:
            infos.append(probe(video))
        except VideoError as exc:
            raise type(exc)(f"{name}: {exc}") from None
    rates = {str(i.fps) for i in infos}
    if len(rates) > 1:
        listed = ", ".join(f"{n} {float(i.fps):g} fps" for n, i in zip(names, infos))
        raise MultiviewError(f"the videos have different frame rates ({listed}): film every view at one rate")
    checked = check_calibration(cameras, names, [(i.width, i.height) for i in infos])
    uneven = length_warning(names, [i.frame_count for i in infos])
    if offsets is not None:
        given_offsets(offsets, len(videos))  # a wrong count fails before the slow part
    fps = float(infos[0].fps)
    report = on_progress or (lambda p: None)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = out_dir.parent / f".{out_dir.name}.partial-{uuid.uuid4().hex[:12]}"
    work.mkdir()
    try:
        if backend is None:
            backend = load_pipeline_backend(options, model_path, device=device)
        (work / VIEWS_DIR).mkdir()
        view_dirs, view_results = [], []
        for i, (video, name) in enumerate(zip(videos, names)):
            target = work / VIEWS_DIR / _stem(name, view_dirs)
            share = lambda p, i=i: report(MultiviewProgress(  # noqa: E731
                "views", i + 1, len(videos), p, VIEWS_SHARE * (i + p.fraction) / len(videos)))
            result = process_video(video, target, options, backend=backend, device=device, on_progress=share,
                                   should_cancel=should_cancel, source_name=name, limits=limits, execution=execution,
                                   size_goal=PRECISION)
            view_dirs.append(target.name)
            view_results.append(result)
        views_s = time.perf_counter() - started
        report(MultiviewProgress("fusion", 0, len(videos), None, VIEWS_SHARE))
        t0 = time.perf_counter()
        summary, files = _fuse(work, checked, names, view_dirs, view_results, fps, offsets,
                               tracking or _tracking(options), should_cancel, uneven)
        fusion_s = time.perf_counter() - t0
        timings = {"views_s": round(views_s, 3), "fusion_s": round(fusion_s, 3),
                   "views_2d_s": [round(r.timings["elapsed_s"], 3) for r in view_results],
                   "elapsed_s": round(time.perf_counter() - started, 3)}
        summary["timings"] = timings
        summary["network"] = _network(options)
        (work / SUMMARY_JSON).write_text(json.dumps(summary, indent=1), encoding="utf-8")
        move_into_place(work, out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    report(MultiviewProgress("done", 0, len(videos), None, 1.0))
    return MultiviewResult(out_dir, summary, tuple([SUMMARY_JSON, *files]), tuple(summary["warnings"]), timings)


def _tracking(options: PipelineOptions) -> Tracking3DSettings:
    return Tracking3DSettings(fill_gaps_s=options.fill_gaps_s, smoothing=options.smoothing)


def _stem(name: str, taken: list[str]) -> str:
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in Path(name).stem) or "view"  # no "..": a folder
    while stem in taken:
        stem += "_"
    return stem


def length_warning(names: Sequence[str], frame_counts: Sequence[int | None]) -> str | None:
    """The warning for videos of different lengths (None when they agree): accepted, since a
    camera started late or stopped early is the usual reason, and the offsets put it right."""
    counts = [c for c in frame_counts if c is not None]
    if len(set(counts)) <= 1:
        return None
    listed = ", ".join(f"{n} {c} frames" for n, c in zip(names, frame_counts) if c is not None)
    return (f"the videos have different lengths ({listed}): the 3D covers the moments at least two views "
            "show, after matching them in time")


def _fuse(work: Path, checked, names, view_dirs, view_results, fps, given, tracking, should_cancel, uneven):
    header = json.loads((work / VIEWS_DIR / view_dirs[0] / "keypoints.json").read_text(encoding="utf-8"))
    part_names = tuple(header["skeleton"]["parts"])
    views = []
    for name, folder, result in zip(names, view_dirs, view_results):
        views.append(read_keypoints_csv(work / VIEWS_DIR / folder / KEYPOINTS_CSV, name=name, fps=fps,
                                        frame_count=result.frames_processed,
                                        size=(result.video["width"], result.video["height"]), part_names=part_names))
    cameras = checked.cameras
    warnings = list(checked.warnings) + ([uneven] if uneven else [])
    try:
        result = reconstruct(cameras, views, offsets=given, tracking=tracking, should_cancel=should_cancel)
    except FusionCancelled:
        raise PipelineCancelled("cancelled") from None
    people, estimates, line = result.people, result.offsets, result.timeline
    for name, e in zip(names[1:], estimates[1:]):
        if e.estimated and e.confidence < MIN_OFFSET_CONFIDENCE:
            warnings.append(f"{name}: the estimated offset ({e.offset:+d} frames) is uncertain "
                            f"(confidence {e.confidence:.2f}); give the offsets if you know them")
    camera_names = [c.name for c in cameras]
    rows = write_keypoints_csv(work / KEYPOINTS_3D_CSV, people, part_names=part_names, cameras=camera_names, fps=fps)
    markers = MODEL_SKELETONS[header["model"]["id"]].marker_names
    files = [KEYPOINTS_3D_CSV, *write_angles(work, people, part_names=part_names, fps=fps),
             *write_trcs(work, people, markers=markers, fps=fps), CALIBRATION_COPY]
    write_toml(work / CALIBRATION_COPY, cameras)
    summary = {
        "cameras": [{"name": c.name, "video": n, "folder": f"{VIEWS_DIR}/{d}", "width": c.size[0], "height": c.size[1],
                     "offset": e.to_dict(), "reprojection_px": _camera_error(people, v),
                     "network_input": r.network_input}
                    for v, (c, n, d, e, r) in enumerate(zip(cameras, names, view_dirs, estimates, view_results))],
        "fps": fps, "frames": line.frame_count, "part_names": list(part_names), "markers": list(markers),
        "world": {"units": "m", "up": "+Z", "trc": "OpenSim X, Y, Z = world y, z, x (Y up)"},
        "people": [_person_summary(p, fps, line.frame_count) for p in people],
        "rows": rows, "warnings": warnings,
    }
    return summary, files


def _camera_error(people, view: int) -> dict[str, Any]:
    errors = np.concatenate([p.per_view_error_px[..., view].ravel() for p in people])
    errors = errors[np.isfinite(errors)]
    if not len(errors):
        return {"median": None, "p90": None, "points": 0}
    return {"median": round(float(np.median(errors)), 2), "p90": round(float(np.percentile(errors, 90)), 2),
            "points": int(len(errors))}


def _network(options: PipelineOptions) -> dict[str, Any]:
    """The network options asked for, and what "auto" aims at (each view's choice is its
    camera's ``network_input``)."""
    auto = options.model == "openpose" and options.net_height == AUTO_NET_HEIGHT
    return {"net_height": options.net_height, "upsample": options.upsample,
            "auto": PRECISION.to_dict() if auto else None}


def _person_summary(p, fps: float, frames: int) -> dict[str, Any]:
    seen = np.isfinite(p.raw[:, :, 0]).any(axis=1)
    errors = p.error_px[np.isfinite(p.error_px)]
    used = p.views[np.isfinite(p.raw[:, :, 0])]
    cameras = [bin(int(m)).count("1") for m in used]
    return {"person": p.person, "first_frame": int(p.frames[0]), "last_frame": int(p.frames[-1]),
            "frames_seen": int(seen.sum()), "fraction_of_frames": round(float(seen.sum()) / frames, 4),
            "reprojection_px_median": round(float(np.median(errors)), 2) if len(errors) else None,
            "cameras_per_point_mean": round(float(np.mean(cameras)), 2) if cameras else 0.0,
            "trc": f"people/person_{p.person}.trc", "angles": f"people/person_{p.person}_angles_3d.mot"}

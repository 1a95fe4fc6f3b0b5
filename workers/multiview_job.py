"""A multi-view job (``Job.kind == "multiview"``) for the Celery task: its stored views and
calibration in (:func:`pipeline.multiview.process_views`), the job page's pictures, and what to
record with its result out."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from config import Settings
from jobs import Job

if TYPE_CHECKING:
    from pipeline.execution import Execution
    from pipeline.video import PipelineOptions

log = logging.getLogger(__name__)


def multiview_stage(p):  # noqa: ANN001,ANN201 - MultiviewProgress -> Progress
    """A ``pipeline.multiview.MultiviewProgress`` as the job's ``Progress``: stage
    ``view 2/4: analysing`` (the 2D pass of view 2 of 4, and its own stage), then ``fusion``."""
    from pipeline.progress import Progress

    if p.view_progress is None:
        return Progress(p.stage, 0, None, 0.0, None, p.fraction)
    v = p.view_progress
    return Progress(f"view {p.view}/{p.views}: {v.stage}", v.frames_done, v.frames_total, v.fps, None, p.fraction)


def run_views(job: Job, settings: Settings, out: Path, options: PipelineOptions, backend, run, *,  # noqa: ANN001
              execution: Execution):
    """Run a multi-view job (``pipeline.multiview.process_views``) on its stored views."""
    from jobs.paths import upload_views_dir
    from pipeline.multiview import process_views

    folder = upload_views_dir(settings, job.id)
    views = job.source_meta.get("views", [])
    calibration, videos, names = folder.parent / "calibration", [folder / v["file"] for v in views], [v["name"] for v in views]
    result = process_views(calibration, videos, out, options, names=names, backend=backend,
                           offsets=job.source_meta.get("offsets"),
                           on_progress=lambda p: run.on_progress(multiview_stage(p)),
                           should_cancel=run.should_cancel, limits=settings.limits,
                           execution=execution)
    return result, _page_files(result, videos, pictures=not options.keypoints_only)


def _page_files(result, videos, *, pictures: bool) -> dict:  # noqa: ANN001
    """The job page's overlays and 3D scene (``pipeline.multiview_page``; on black for a
    keypoints-only job); a failure there costs the page its pictures (a warning), not the job
    its results."""
    from pipeline.multiview_page import write_page_files

    try:
        return write_page_files(result.out_dir, videos, pictures=pictures)
    except Exception as exc:  # noqa: BLE001 - the 3D results are complete without them
        log.exception("multiview page files failed")
        return {"warning": f"the views' overlays could not be drawn ({type(exc).__name__}: {exc})"}


def multiview_outputs(result, page: dict) -> dict:
    """A multi-view run's files by kind: ``keypoints_3d_csv``, ``angles_3d_csv``, ``calibration``,
    ``summary`` (multiview.json), ``trc`` and ``mot`` (lists, one per person) and ``views``
    (per camera: its 2D outputs' names under ``views/<folder>/``)."""
    from pipeline.multiview import CALIBRATION_COPY, SUMMARY_JSON

    files = list(result.files)
    outputs: dict = {"summary": SUMMARY_JSON, "calibration": CALIBRATION_COPY,
                     "trc": [f for f in files if f.endswith(".trc")],
                     "mot": [f for f in files if f.endswith(".mot")]}
    for name in files:
        if name.endswith(".csv"):
            outputs[name[:-4] + "_csv"] = name
    views = {}
    for camera in result.summary["cameras"]:
        folder = Path(result.out_dir) / camera["folder"]
        views[camera["name"]] = {"video": camera["video"], "folder": camera["folder"],
                                 "files": sorted(p.relative_to(result.out_dir).as_posix()
                                                 for p in folder.rglob("*") if p.is_file())}
    outputs["views"] = views
    if page.get("scene"):
        outputs["scene"] = page["scene"]
    outputs["overlays"] = page.get("overlays", {})
    outputs["moments"] = page.get("moments", {})
    return outputs


def record_of_views(job: Job, done) -> tuple[dict, dict]:  # noqa: ANN001 - run_views' result
    """A finished multi-view job's ``outputs`` (:func:`multiview_outputs`) and ``timings``
    (what it did: views, frames, people, each camera's reprojection error and offset)."""
    result, page = done
    summary = result.summary
    timings = {**result.timings, "views": len(summary["cameras"]),
               "frames": summary["frames"], "people": len(summary["people"]),
               "cameras": [{"name": c["name"], "video": c["video"], "reprojection_px": c["reprojection_px"],
                            "offset": c["offset"]} for c in summary["cameras"]]}
    warnings = list(job.source_meta.get("warnings", []))
    warnings += [w for w in result.warnings if w not in warnings]
    if page.get("warning"):
        warnings.append(page["warning"])
    if page.get("overlay_frame") is not None:
        timings["overlay_frame"] = page["overlay_frame"]
    if warnings:
        timings["warnings"] = warnings
    return multiview_outputs(result, page), timings

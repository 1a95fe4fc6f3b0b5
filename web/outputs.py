"""Serving a job's output folder: single files with range requests, and everything as one ZIP.

Files are served by ``send_from_directory`` (``conditional=True``: Range -> 206, ETag, 304), which
joins the path safely: nothing outside the job's folder is reachable (``../`` -> 404). The
all-in-one ZIP is built on first request into the job's folder (atomically renamed into place)
and served from there afterwards.
"""
from __future__ import annotations

import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, request, send_file, send_from_directory, url_for
from werkzeug.exceptions import HTTPException

from filenames import MAX_NAME_BYTES, fit_stem, safe_file_name
from jobs import Job, JobState
from jobs.paths import output_dir, remove_job_files
from web.state import get_job_or_404, state

bp = Blueprint("outputs", __name__)

ZIP_NAME = "all_outputs.zip"
MIME_TYPES = {
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".json": "application/json",
    ".csv": "text/csv",
    ".zip": "application/zip",
    ".txt": "text/plain",
    ".mot": "text/plain",  # OpenSim motion and marker files are tab-separated text
    ".trc": "text/plain",
}
# Already-compressed formats are stored, the rest deflated.
_STORED_SUFFIXES = {".mp4", ".jpg", ".jpeg", ".zip"}
#: Screenshot URLs a job's JSON lists (the first ones; ``screenshot_count`` says how many there
#: are and ``/api/jobs/<id>/screenshots`` pages through them all).
SCREENSHOTS_IN_JOB = 60


_SHOT_TIME = re.compile(r"t(\d+(?:\.\d+)?)s?\.jpe?g$")


def screenshot_time(name: str) -> float | None:
    """The time (s) a screenshot was taken at, from its name (``t0000065.500s.jpg`` -> 65.5)."""
    match = _SHOT_TIME.search(name.rsplit("/", 1)[-1])
    return None if match is None else float(match.group(1))


def screenshot_label(url: str) -> str:
    """The video time a screenshot shows, from its name (``t0000065.500s.jpg`` -> ``1:05.5``)."""
    seconds = screenshot_time(url)
    if seconds is None:
        return url.rsplit("/", 1)[-1]
    minutes, rest = divmod(seconds, 60)
    text = f"{int(minutes)}:{int(rest):02d}"
    tenths = int(round((rest % 1) * 10))
    return text + (f".{tenths}" if 0 < tenths < 10 else "")


def job_folder(job_id: str) -> Path:
    return output_dir(state().settings, job_id)


def _state_name(job: Job) -> str:
    return job.state.value if isinstance(job.state, JobState) else str(job.state)


def output_urls(job: Job) -> dict[str, Any] | None:
    """URLs of a succeeded job's outputs (keys as in the API), or None before it has succeeded."""
    folder = job_folder(job.id)
    if _state_name(job) != JobState.SUCCEEDED.value or not folder.is_dir():
        return None

    def url(name: str) -> str:
        return url_for("outputs.file", job_id=job.id, name=name)

    # The worker records what it wrote (workers.tasks.outputs_of): file names relative to the
    # job's folder by kind, plus the list of screenshots.
    names = job.outputs
    if job.kind == "multiview":
        return _multiview_urls(job, names, url)
    urls: dict[str, Any] = {k: url(v) for k, v in names.items() if k not in ("screenshots", "images") and v}
    urls["zip"] = url_for("outputs.all_zip", job_id=job.id)
    if job.kind == "images":  # the annotated photos in upload order (None: unreadable, or keypoints only)
        urls["images"] = [url(name) if name else None for name in names.get("images", [])]
        urls["poster"] = next((u for u in urls["images"] if u), None)  # My jobs' thumbnail
        return urls
    shots = names.get("screenshots", [])
    urls["screenshots"] = [url(name) for name in shots[:SCREENSHOTS_IN_JOB]]
    urls["screenshot_count"] = len(shots)
    urls["screenshots_url"] = url_for("api.job_screenshots", job_id=job.id)
    urls.setdefault("poster", (urls["screenshots"] or [None])[0])
    return urls


def _multiview_urls(job: Job, names: dict[str, Any], url) -> dict[str, Any]:  # noqa: ANN001
    """A multi-view job's outputs (``workers.multiview_job.multiview_outputs``): the 3D files, ``trc``
    and ``mot`` (lists, one per person), and ``views``: per camera, its video's name, its overlays
    (``overlay``, and ``moments``: the same at several time-line frames) and its 2D outputs' URLs
    by file name (``keypoints.csv``, ``keypoints.json`` ...)."""
    urls: dict[str, Any] = {k: url(v) for k, v in names.items() if isinstance(v, str) and v}
    urls["trc"] = [url(n) for n in names.get("trc", [])]
    urls["mot"] = [url(n) for n in names.get("mot", [])]
    overlays, moments = names.get("overlays", {}), names.get("moments", {})
    urls["views"] = {camera: {"video": v["video"], "overlay": url(overlays[camera]) if overlays.get(camera) else None,
                              "moments": [{"frame": frame, "url": url(file)} for frame, file in moments.get(camera, [])],
                              "files": {f[len(v["folder"]) + 1:]: url(f) for f in v["files"]}}
                     for camera, v in names.get("views", {}).items()}
    urls["zip"] = url_for("outputs.all_zip", job_id=job.id)
    urls["poster"] = next((v["overlay"] for v in urls["views"].values() if v["overlay"]), None)  # My jobs
    return urls


@dataclass(frozen=True)
class ScreenshotPage:
    """Screenshot URLs ``offset`` to ``offset + limit`` of a job's ``total``, in time order."""

    urls: list[str]
    offset: int
    limit: int
    total: int

    @property
    def has_next(self) -> bool:
        return self.offset + self.limit < self.total


def screenshot_page(job: Job, *, offset: int, limit: int) -> ScreenshotPage | None:
    """One page of a succeeded job's screenshots; None before it has succeeded."""
    if _state_name(job) != JobState.SUCCEEDED.value or not job_folder(job.id).is_dir():
        return None
    names = job.outputs.get("screenshots", [])
    urls = [url_for("outputs.file", job_id=job.id, name=name) for name in names[offset:offset + limit]]
    return ScreenshotPage(urls=urls, offset=offset, limit=limit, total=len(names))


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """Query parameter ``name`` as a whole number in [low, high]; a 400 naming it otherwise."""
    raw = request.args.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        abort(400, description=f"{name} must be a whole number between {low:,} and {high:,}, got {raw[:40]!r}.")
    return value


@bp.get("/jobs/<job_id>/files/<path:name>")
def file(job_id: str, name: str) -> Response:
    get_job_or_404(job_id)
    mimetype = MIME_TYPES.get(os.path.splitext(name)[1].lower())
    return send_from_directory(
        job_folder(job_id),
        name,
        mimetype=mimetype,
        conditional=True,
        as_attachment=request.args.get("download") == "1",
    )


def build_zip(folder: Path) -> Path:
    """Zip every file under ``folder`` (once) into ``folder/all_outputs.zip`` and return its path."""
    target = folder / ZIP_NAME
    if target.is_file():
        return target
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".zip-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w") as archive:
            for path in sorted(folder.rglob("*")):
                rel = path.relative_to(folder).as_posix()
                if not path.is_file() or rel == ZIP_NAME or path.name.startswith(".zip-"):
                    continue
                method = zipfile.ZIP_STORED if path.suffix.lower() in _STORED_SUFFIXES else zipfile.ZIP_DEFLATED
                archive.write(path, rel, compress_type=method)
        os.replace(tmp_name, target)  # concurrent builders: the last rename wins, both complete
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


#: Room for the stem in a download's name, beside ``posestudio-``, ``-<8 characters>.zip``.
DOWNLOAD_STEM_BYTES = MAX_NAME_BYTES - len("posestudio--12345678.zip")


def download_stem(source_name: str | None) -> str:
    """The uploaded file's name without its extension, fit for a download name (quotes, slashes,
    control characters, which a script can send, become ``_``: ``filenames.safe_file_name``),
    at most 60 characters and :data:`DOWNLOAD_STEM_BYTES` bytes of UTF-8."""
    stem = Path(safe_file_name(source_name)).stem[:60].strip(" .")
    return fit_stem(stem, max_bytes=DOWNLOAD_STEM_BYTES) or "video"


def download_name(source_name: str | None, job_id: str) -> str:
    """``posestudio-<stem>-<job id's first 8>.zip``: at most 255 bytes of UTF-8, as a file name must be."""
    return f"posestudio-{download_stem(source_name)}-{job_id[:8]}.zip"


@bp.get("/jobs/<job_id>/download.zip")
def all_zip(job_id: str) -> Response:
    job = get_job_or_404(job_id)
    folder = job_folder(job_id)
    if _state_name(job) != JobState.SUCCEEDED.value or not folder.is_dir():
        abort(404, description="This job has no outputs yet: it has not finished successfully.")
    try:  # the job may be deleted meanwhile: its folder goes while the ZIP is built or opened
        response = send_file(build_zip(folder), mimetype="application/zip", as_attachment=True,
                             download_name=download_name(job.source_name, job_id), conditional=True)
    except FileNotFoundError:
        abort(404, description="This job was deleted while its ZIP was being made.")
    try:  # the response holds the open file: sent whole even if the job is deleted from now on
        get_job_or_404(job_id)
    except HTTPException:  # deleted meanwhile, and our ZIP kept its folder from going: it goes now
        response.close()
        remove_job_files(state().settings, job_id)
        raise
    return response

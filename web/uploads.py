"""Receiving a video upload: streamed to disk, checked by content, turned into a queued job.

The multipart parser writes every uploaded file straight into ``<uploads_dir>/.incoming/`` (on
the same disk as its final place, never in memory), and an accepted upload is renamed to
``jobs.paths.upload_path(settings, job_id)``. The user's file name is kept as data only.
Anything an upload leaves behind in ``.incoming/`` is removed when the request ends (and, should
the web process be killed mid-upload, when the app next starts and the file is a day old).
An upload refused as too large is still read (and dropped) after its 413 went out, so the
browser sees the friendly page and not a connection reset (:func:`drain_after`).
"""
from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import IO, Any, Mapping

from flask import Flask, Request, Response, request
from werkzeug.datastructures import FileStorage

from jobs import Job
from jobs.paths import remove_job_files, upload_path
from videoio import VideoError, probe
from web.session import CSRF_FIELD
from web.state import QUEUE_UNREACHABLE, enqueue_or_fail, state
from pipeline.limits import LimitExceeded, check_job
from pipeline.model_files import not_installed_line
from pipeline.video import PipelineOptions

_TEMPS_KEY = "posestudio.upload_temps"
VIDEO_FIELD = "video"
#: How long the rest of a refused upload is read after its 413 (nginx's lingering_time is 30 s).
DRAIN_TIMEOUT_S = 30.0


class UploadError(Exception):
    """An upload that cannot become a job; ``message`` is meant for the person who sent it."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class UploadRequest(Request):
    """Flask's Request, with uploaded files streamed to temp files under the uploads folder."""

    @property
    def max_content_length(self) -> int | None:
        """The upload limit for multipart bodies, whose files stream to disk. werkzeug reads any
        other body (a urlencoded form) whole into memory, so those get the text-field limit."""
        limit = super().max_content_length
        if self.mimetype == "multipart/form-data" or self.max_form_memory_size is None:
            return limit
        return self.max_form_memory_size if limit is None else min(limit, self.max_form_memory_size)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        Request.max_content_length.fset(self, value)

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        incoming = state().settings.uploads_dir / ".incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        stream = tempfile.NamedTemporaryFile(dir=incoming, prefix="part-", suffix=".upload", delete=False)
        self.environ.setdefault(_TEMPS_KEY, []).append(Path(stream.name))
        return stream


def _remove_leftover_temps(_exc: BaseException | None = None) -> None:
    for path in request.environ.get(_TEMPS_KEY, ()):
        path.unlink(missing_ok=True)


def remove_stale_incoming(uploads_dir: Path, *, older_than_s: float = 24 * 3600) -> int:
    """Delete temp files a killed web process left in ``.incoming/``; returns how many."""
    cutoff = time.time() - older_than_s
    removed = 0
    for path in (uploads_dir / ".incoming").glob("part-*.upload"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            pass
    return removed


def drain_after(response: Response) -> None:
    """Once ``response`` (a 413 for a declared Content-Length over the limit) has been sent,
    read and drop the rest of the request body, for at most :data:`DRAIN_TIMEOUT_S`.

    A server that closes the connection while the browser is still sending makes the browser's
    TCP stack get a reset, and a plain form post (no JavaScript) then shows "connection reset"
    instead of the 413 page; gunicorn itself drains only 64 KiB. The body was not touched yet
    (werkzeug refuses it by its Content-Length before reading), so exactly that much is left.
    """
    length, limit = request.content_length, request.max_content_length
    if length is None or limit is None or length <= limit:
        return  # refused part way through: what is left is unknown; the server closes as usual
    stream = request.environ["wsgi.input"]

    def drain() -> None:
        left, deadline = length, time.monotonic() + DRAIN_TIMEOUT_S
        try:
            while left > 0 and time.monotonic() < deadline:
                chunk = stream.read(min(left, 1024 * 1024))
                if not chunk:
                    break
                left -= len(chunk)
        except OSError:  # the client stopped sending (it read the early answer) or went away
            pass

    response.call_on_close(drain)


def init_uploads(app: Flask) -> None:
    app.request_class = UploadRequest
    app.teardown_request(_remove_leftover_temps)
    remove_stale_incoming(app.extensions["posestudio"].settings.uploads_dir)


def option_fields(form: Mapping[str, str]) -> dict[str, str]:
    """The pipeline options a form or script sent: every field but the CSRF token, blanks dropped."""
    return {k: v for k, v in form.items() if k != CSRF_FIELD and str(v).strip() != ""}


def validate_options(form: Mapping[str, str]) -> dict[str, Any]:
    """The options as ``PipelineOptions.to_dict()`` (what the job will run with).

    Raises UploadError (400) with ``PipelineOptions.from_mapping``'s message for bad values, and
    for a model whose files are not installed here (saying where they go; never another model).
    """
    try:
        options = PipelineOptions.from_mapping(option_fields(form))
    except ValueError as exc:
        raise UploadError(f"Invalid options: {exc}", status=400) from None
    missing = not_installed_line(options.model, state().settings.model_path)
    if missing:
        raise UploadError(f"Invalid options: {missing}", status=400)
    return options.to_dict()


def store_file(file: FileStorage, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    stream = file.stream
    name = getattr(stream, "name", None)
    if isinstance(name, str) and os.path.isfile(name):
        stream.flush()
        os.replace(name, dest)  # same disk: a rename, no second copy
    else:
        with open(dest, "wb") as out:
            shutil.copyfileobj(stream, out, 1024 * 1024)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Fraction):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    return value


def describe_video(info: Any) -> dict[str, Any]:
    """``videoio.VideoInfo`` as a JSON-friendly dict (fps as a float plus its exact fraction)."""
    meta = {k: _jsonable(v) for k, v in dataclasses.asdict(info).items()}
    if isinstance(getattr(info, "fps", None), Fraction):
        meta["fps_fraction"] = str(info.fps)
    return meta


def name_the_file(message: str, stored_name: str, user_name: str) -> str:
    """The probe and the limits name the stored file ("source ...", "source: ..."); say the name
    the person knows instead."""
    if message.startswith((stored_name + " ", stored_name + ":")):
        return f"{user_name!r}{message[len(stored_name):]}"
    return f"{user_name!r}: {message}"


def enqueue_upload(job: Job, source: str) -> Job:
    """Send an uploaded ``job`` to the queue; where the queue is unreachable (the job is then
    recorded as failed, an admin can retry it) a 503 that names ``source``, what was received."""
    if not enqueue_or_fail(job.id):
        raise UploadError(f"{source!r} was received, but {QUEUE_UNREACHABLE}.", status=503)
    return job


def accept_upload(file: FileStorage | None, options: dict[str, Any], *, owner: str | None) -> Job:
    """Store, probe, check against the resource limits and enqueue one uploaded video; return
    its queued Job.

    Raises UploadError: 400 when no file was sent, 422 (with the probe's message) when the file
    is not a video the pipeline can use, 413 (naming the limit and both values) when the job is
    over a resource limit (``pipeline.limits``; the stored file is removed in both cases), 503
    when the queue is unreachable (the job is recorded as failed with that reason; an admin can
    retry it).
    """
    if file is None or not file.filename:
        raise UploadError(
            f"No video was sent: attach the file in the form field '{VIDEO_FIELD}'.", status=400
        )
    web = state()
    job_id = secrets.token_hex(16)  # 128 random bits: unguessable
    dest = upload_path(web.settings, job_id)
    store_file(file, dest)
    try:
        info = probe(dest)
        check_job(info, PipelineOptions.from_mapping(options), web.settings.limits, name=dest.name)
        job = web.store.create_job(
            job_id=job_id,
            source_name=file.filename,
            options=options,
            owner=owner,
            source_meta=describe_video(info),
        )
    except (VideoError, LimitExceeded) as exc:
        remove_job_files(web.settings, job_id)
        status = 413 if isinstance(exc, LimitExceeded) else 422
        raise UploadError(name_the_file(str(exc), dest.name, file.filename), status=status) from None
    except BaseException:
        remove_job_files(web.settings, job_id)
        raise
    return enqueue_upload(job, file.filename)

"""Errors as a friendly HTML page for people and as JSON for ``/api`` clients; never a traceback."""
from __future__ import annotations

from flask import Flask, Response, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge, ServiceUnavailable

from jobs import database_unavailable
from jobs.paths import disk_full

from web.state import state
from web.uploads import drain_after

TITLES = {
    400: "That request could not be used",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    408: "That upload was too slow",
    409: "That cannot be done now",
    410: "This job has expired",
    413: "That file is too large",
    422: "That file is not a video we can read",
    503: "The job queue is not reachable",
}


def limit_text() -> str:
    mb = state().settings.max_upload_bytes / 1024**2
    return f"{mb:,.0f} MB" if mb >= 1 else f"{state().settings.max_upload_bytes:,} bytes"


def size_text(size: int) -> str:
    """``1048576`` -> ``"1 MiB"``; sizes that are no whole number of KiB or MiB in bytes."""
    for unit, name in ((1024**2, "MiB"), (1024, "KiB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit:,} {name}"
    return f"{size:,} bytes"


def _too_large() -> str:
    """Which limit werkzeug's own 413 is about: the body of a request that is not a multipart
    upload (read into memory, so 1 MiB: web.uploads.UploadRequest), a form field or the number
    of parts of a multipart form, or the upload limit."""
    limit, length = request.max_content_length, request.content_length
    if request.mimetype != "multipart/form-data" and limit is not None and limit < state().settings.max_upload_bytes:
        return (f"A request body that is not a multipart upload may be at most {size_text(limit)}; "
                "send videos as multipart/form-data, in the file field 'video'.")
    if request.mimetype == "multipart/form-data" and length is not None and limit is not None and length <= limit:
        return (f"A form field may hold at most {size_text(request.max_form_memory_size or 0)}, and a form "
                f"at most {request.max_form_parts or 0:,} fields and files.")
    return f"Uploads are limited to {limit_text()} per request. Trim or compress the video and try again."


def _message(error: HTTPException) -> str:
    if error.code == 413 and error.description == RequestEntityTooLarge.description:
        return _too_large()
    if error.code == 404 and (error.description or "").startswith("The requested URL"):
        return "There is nothing at this address. Check the link, or start from the upload page."
    return error.description or "Something went wrong."


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


def handle_http_error(error: HTTPException, *, title: str | None = None) -> Response:
    code = error.code or 500
    message = _message(error)
    if wants_json():
        response = make_response(jsonify({"error": message, "status": code}), code)
    else:
        title = title or TITLES.get(code, "Something went wrong")
        # error_page: no CSRF token, so an error page starts no session (no cookie for a 404).
        response = make_response(render_template("error.html", code=code, title=title, message=message,
                                                 error_page=True), code)
    allow = dict(error.get_headers()).get("Allow")  # a 405 says which methods the address takes
    if allow:
        response.headers["Allow"] = allow
    if code == 413:
        drain_after(response)
    return response


DATABASE_TITLE = "The job database is not reachable"
DATABASE_UNREACHABLE = ("The job database is unreachable, so jobs cannot be shown or started just now. "
                        "Nothing was lost: jobs already queued or running go on once it is back. "
                        "Try again in a minute.")
DATABASE_LOCKED = ("The job database is busy: another process has held its lock for too long, so this "
                   "could not be done just now. Nothing was lost. Try again in a minute.")
DATABASE_FULL = ("The job database's disk is full, so jobs cannot be started or changed just now; nothing of "
                 "this was kept. This is not a problem with your file: the server's administrator needs to "
                 "free space. Try again later.")
RETRY_AFTER_S = 30


def handle_database_unavailable(error: Exception) -> Response:
    """A 503 that says the job database is away, locked by another process or on a full disk
    (its error, which names hosts, goes to the log in one line); the app serves again as soon
    as the database answers, with no restart."""
    from flask import current_app

    from jobs.store import FULL, LOCKED, database_trouble, first_line

    trouble = database_trouble(error)
    what = {LOCKED: "is locked", FULL: "is on a full disk"}.get(trouble, "does not answer")
    current_app.logger.warning("%s %s: the job database %s: %s", request.method, request.path, what,
                               first_line(error))
    message = {LOCKED: DATABASE_LOCKED, FULL: DATABASE_FULL}.get(trouble, DATABASE_UNREACHABLE)
    title = {LOCKED: "The job database is busy", FULL: STORAGE_TITLE}.get(trouble, DATABASE_TITLE)
    response = handle_http_error(ServiceUnavailable(message), title=title)
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


STORAGE_TITLE = "The server's storage is full"
STORAGE_FULL = ("The server's storage is full, so this could not be done; nothing of it was kept. This "
                "is not a problem with your file: the server's administrator needs to free space. "
                "Try again later.")


def handle_disk_full(error: OSError) -> Response:
    """A 503 that says the server's disk is full (an upload being received, a ZIP being built);
    what was half-written is removed by whoever wrote it. The log names the file."""
    from flask import current_app

    current_app.logger.error("%s %s: the disk is full: %s", request.method, request.path, error)
    response = handle_http_error(ServiceUnavailable(STORAGE_FULL), title=STORAGE_TITLE)
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


def handle_unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return handle_http_error(error)
    if database_unavailable(error):
        return handle_database_unavailable(error)
    if disk_full(error):
        return handle_disk_full(error)
    from flask import current_app

    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return handle_http_error(InternalServerError(
        "The server hit an unexpected problem. The error was logged; please try again later."))


def init_errors(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)

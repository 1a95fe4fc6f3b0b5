"""JSON API used by the pages' own JavaScript and by scripts (``curl -F video=@clip.mp4``)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request, url_for

from jobs import Job
from jobs.retention import retention_fields
from web.outputs import int_arg, output_urls, screenshot_page
from web.quotas import check_jobs_per_session
from web.session import owner_id
from web.state import get_job_or_404, state
from web.image_uploads import ARCHIVE_FIELD, IMAGE_FIELD, accept_images, image_options
from web.multiview_uploads import CALIBRATION_FIELD, OFFSETS_FIELD, accept_views, without_offsets
from web.uploads import VIDEO_FIELD, UploadError, accept_upload, validate_options

bp = Blueprint("api", __name__, url_prefix="/api")
#: Most screenshot URLs one page of ``/api/jobs/<id>/screenshots`` returns.
MAX_SCREENSHOT_PAGE = 500
#: The largest ``offset`` of a screenshot page (the OpenAPI document says so too).
MAX_SCREENSHOT_OFFSET = 10**9


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def job_json(job: Job) -> dict[str, Any]:
    """The public view of a job (no owner id, no worker internals)."""
    state_name = getattr(job.state, "value", job.state)
    return {
        "id": job.id,
        "url": url_for("pages.job", job_id=job.id),
        "state": state_name,
        "stage": job.stage,
        "progress": job.progress,
        "fps": job.fps,
        "eta_s": job.eta_s,
        "frames_done": job.frames_done,
        "frames_total": job.frames_total,
        "error": job.error,
        "source_name": job.source_name,
        "kind": job.kind,
        "cancel_requested": job.cancel_requested,
        "stalled": job.is_stalled(state().settings.job_stale_after_s),
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "outputs": output_urls(job),
        "summary": _summary(job),
        "warnings": [str(w) for w in job.timings.get("warnings", [])],
        **retention_fields(job, state().settings),
    }


def _summary(job: Job) -> dict[str, Any] | None:
    """What a finished run did (None until it succeeded): frames processed, people tracked
    (track IDs issued), person detections, processing time in seconds, frames per second and the
    network input used (width, height; with ``auto`` when net_height "auto" chose it)."""
    t = job.timings
    if getattr(job.state, "value", job.state) == "succeeded" and job.kind == "multiview":
        return {"views": t.get("views"), "frames": t.get("frames"), "people": t.get("people"),
                "processing_s": t.get("elapsed_s"), "cameras": t.get("cameras")}
    if getattr(job.state, "value", job.state) == "succeeded" and job.kind == "images":
        return {"images": t.get("images"), "images_failed": t.get("images_failed"),
                "people": t.get("detections"), "detections": t.get("detections"),
                "processing_s": t.get("elapsed_s"), "images_per_s": t.get("images_per_s")}
    if getattr(job.state, "value", job.state) != "succeeded" or "frames_processed" not in t:
        return None
    return {"frames": t.get("frames_processed"), "people": t.get("tracks"),
            "detections": t.get("detections"), "processing_s": t.get("elapsed_s"), "fps": t.get("fps"),
            "network_input": t.get("network_input")}


@bp.post("/jobs")
def create_job() -> tuple[Response, int, dict[str, str]]:
    """Multipart: file field ``video`` (2 to 8 of them and a ``calibration``: one multi-view
    job), or photos in ``image`` fields (one or many) or a ZIP in
    ``archive`` (one image job), plus pipeline options as form fields -> 202 {id, url}."""
    try:
        options = validate_options(without_offsets(request.form))
        check_jobs_per_session(owner_id(create=False))
        if IMAGE_FIELD in request.files or ARCHIVE_FIELD in request.files:
            if VIDEO_FIELD in request.files:
                raise UploadError("Send a video or images in one request, not both.", status=400)
            job = accept_images(request.files.getlist(IMAGE_FIELD), request.files.get(ARCHIVE_FIELD),
                                image_options(options, request.form), owner=owner_id(create=False))
        elif CALIBRATION_FIELD in request.files or len(request.files.getlist(VIDEO_FIELD)) > 1:
            job = accept_views(request.files.getlist(VIDEO_FIELD), request.files.get(CALIBRATION_FIELD),
                               options, owner=owner_id(create=False), offsets=request.form.get(OFFSETS_FIELD))
        else:
            job = accept_upload(request.files.get(VIDEO_FIELD), options, owner=owner_id(create=False))
    except UploadError as exc:
        abort(exc.status, description=exc.message)
    body = {"id": job.id, "url": url_for("pages.job", job_id=job.id, _external=True),
            "api_url": url_for("api.get_job", job_id=job.id, _external=True)}
    return jsonify(body), 202, {"Location": body["api_url"]}


@bp.get("/jobs")
def list_jobs() -> Response:
    """The jobs uploaded from this browser (session cookie), newest first; none for scripts."""
    owner = owner_id(create=False)
    jobs = state().store.list_jobs(owner=owner) if owner else []
    return jsonify({"jobs": [job_json(j) for j in jobs]})


@bp.get("/jobs/<job_id>")
def get_job(job_id: str) -> Response:
    response = jsonify(job_json(get_job_or_404(job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/jobs/<job_id>/screenshots")
def job_screenshots(job_id: str) -> Response:
    """A page of a succeeded job's screenshot URLs: ``?offset=0&limit=100`` (at most 500) ->
    {total, offset, limit, screenshots: [...], next: the next page's URL or null}."""
    job = get_job_or_404(job_id)
    offset = int_arg("offset", 0, 0, MAX_SCREENSHOT_OFFSET)
    limit = int_arg("limit", 100, 1, MAX_SCREENSHOT_PAGE)
    page = screenshot_page(job, offset=offset, limit=limit)
    if page is None:
        abort(404, description="This job has no outputs yet: it has not finished successfully.")
    following = (url_for("api.job_screenshots", job_id=job_id, offset=offset + limit, limit=limit)
                 if page.has_next else None)
    return jsonify({"total": page.total, "offset": offset, "limit": limit, "screenshots": page.urls,
                    "next": following})


@bp.post("/jobs/<job_id>/cancel")
def cancel_job(job_id: str) -> tuple[Response, int]:
    get_job_or_404(job_id)
    state().store.request_cancel(job_id)
    return jsonify(job_json(get_job_or_404(job_id))), 202

"""Server-rendered pages: upload, job, "My jobs". Thin views: validate, talk to the store, redirect."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from pose.registry import BY_NAME, MODELS
from web.api import job_json
from web.errors import limit_text
from web.outputs import int_arg, screenshot_page
from web.quotas import check_files_per_upload, check_jobs_per_session
from web.queue_notice import queue_notice
from web.session import owner_id
from web.state import get_job_or_404, state
from web.image_uploads import IMAGE_FIELD, accept_images, image_options
from web.multiview_uploads import CALIBRATION_FIELD, OFFSETS_FIELD, VIEW_FIELD, accept_views, without_offsets
from web.uploads import VIDEO_FIELD, UploadError, accept_upload, validate_options
from pipeline.model_files import installed_models

bp = Blueprint("pages", __name__)
MAX_FLASHED_ERRORS = 3
#: Screenshots on one page of a job's gallery (``?page=2`` for the next ones).
GALLERY_PAGE = 60

# Network input heights offered on the upload page (the model's stride is 8); "auto", the
# default, is 368 unless the video's people are small (pipeline.autosize).
NET_SIZES = (
    ("auto", "Auto · 368 px, more for small people"),
    (256, "Fast · 256 px"),
    (368, "Balanced · 368 px"),
    (432, "Accurate · 432 px"),
    (512, "Finest · 512 px"),
)


def _upload_page(error: str | None = None, status: int = 200) -> tuple[str, int]:
    owner_id()  # give this browser its id before it uploads
    installed = set(installed_models(state().settings.model_path))
    models = [(entry.name, entry.short or entry.name, entry.label) for entry in MODELS if entry.name in installed]
    return render_template(
        "upload.html", net_sizes=NET_SIZES, models=models, limit_text=limit_text(),
        max_upload_bytes=state().settings.max_upload_bytes, error=error, queue_down=queue_notice(),
    ), status


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The app's icon where browsers look for it (static/favicon.ico; pages also link the SVG)."""
    return current_app.send_static_file("favicon.ico")


@bp.get("/")
def upload() -> tuple[str, int]:
    return _upload_page()


@bp.post("/")
def upload_form() -> Response | tuple[str, int]:
    """The no-JavaScript path: a plain form post with one or more files. A bad file costs only
    itself: the others still become jobs, and "My jobs" says which could not."""
    files = [f for f in request.files.getlist(VIDEO_FIELD) if f.filename]
    photos = [f for f in request.files.getlist(IMAGE_FIELD) if f.filename]
    views = [f for f in request.files.getlist(VIEW_FIELD) if f.filename]
    calibration = request.files.get(CALIBRATION_FIELD)
    try:
        options = validate_options(without_offsets(request.form))
        if views or (calibration is not None and calibration.filename):  # several cameras: one job
            job = accept_views(views, calibration, options, owner=owner_id(), offsets=request.form.get(OFFSETS_FIELD))
            if not files and not photos:
                return redirect(url_for("pages.job", job_id=job.id), code=303)
            flash(f"The views became one 3D job: {job.source_name}", "info")
        if photos:  # the photos are one job; a single ZIP among them is that job's archive
            archive = photos[0] if len(photos) == 1 and photos[0].filename.lower().endswith(".zip") else None
            job = accept_images([] if archive else photos, archive, image_options(options, request.form),
                                owner=owner_id())
            if not files:
                return redirect(url_for("pages.job", job_id=job.id), code=303)
            flash(f"The photos became one job: {job.source_name}", "info")
        if not files and not photos:
            accept_upload(None, options, owner=None)  # raises the "no video" error
        check_files_per_upload(len(files))
        check_jobs_per_session(owner_id(), len(files))
    except UploadError as exc:
        return _upload_page(exc.message, exc.status)
    jobs, errors = [], []
    for file in files:
        try:
            jobs.append(accept_upload(file, options, owner=owner_id()))
        except UploadError as exc:
            errors.append(exc)
    if not jobs:
        return _upload_page(" ".join(e.message for e in errors), errors[0].status)
    # Flashed messages ride in the session cookie (4 KB at most): a few, kept short.
    for error in errors[:MAX_FLASHED_ERRORS]:
        flash(error.message[:300], "error")
    if len(errors) > MAX_FLASHED_ERRORS:
        flash(f"{len(errors) - MAX_FLASHED_ERRORS} more files could not be used.", "error")
    if len(jobs) == 1 and not errors:
        return redirect(url_for("pages.job", job_id=jobs[0].id), code=303)
    return redirect(url_for("pages.my_jobs"), code=303)


@bp.get("/jobs")
def my_jobs() -> str:
    owner = owner_id()
    jobs = [job_json(j) for j in state().store.list_jobs(owner=owner)]
    return render_template("my_jobs.html", jobs=jobs)


@bp.get("/jobs/<job_id>")
def job(job_id: str) -> str:
    record = get_job_or_404(job_id)  # first: a 404 starts no session
    owner_id()
    total = len(record.outputs.get("screenshots", []))
    number = int_arg("page", 1, 1, max(1, -(-total // GALLERY_PAGE)))
    gallery = screenshot_page(record, offset=(number - 1) * GALLERY_PAGE, limit=GALLERY_PAGE)
    model = str(record.options.get("model") or "openpose")
    entry = BY_NAME.get(model)
    return render_template("job.html", job=job_json(record), meta=record.source_meta, gallery=gallery,
                           gallery_page=number, model=model, skeleton=entry.skeleton if entry else None)


@bp.post("/jobs/<job_id>/cancel")
def cancel(job_id: str) -> Response:
    get_job_or_404(job_id)
    state().store.request_cancel(job_id)
    return redirect(url_for("pages.job", job_id=job_id), code=303)

"""Admin pages: every job (filtered by state, searched by name, a page at a time), the queue, the
workers and what each runs on which device, the disk, the retention setting; cancel, retry,
delete, and delete many finished jobs at once.

Who gets in: ``web.admin_gate``. A browser sends either credential (loopback, HTTP Basic) on its
own, also on a form post from another site, so every change here needs the CSRF token, with or
without the session cookie. The queue and the disk come from the background views of
``web.broker_view``, so the page answers at once even while the broker is down.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from jobs import JobNotFound, JobState
from jobs.queries import search_jobs
from jobs.retention import delete_job, upload_kept
from jobs.store import Job, JobStateError
from web.admin_gate import refuse_unless_admin
from web.api import job_json
from web.broker_view import BrokerStatus, ServiceViews, StorageStatus
from web.outputs import int_arg
from web.session import require_csrf_token
from web.state import QUEUE_UNREACHABLE, enqueue_or_fail, get_job_or_404, state

bp = Blueprint("admin", __name__, url_prefix="/admin")
#: Jobs on one page of the admin list.
PAGE_SIZE = 50
MAX_QUERY = 200
STATES = tuple(s.value for s in JobState)


@bp.before_request
def require_admin() -> Response | None:
    refusal = refuse_unless_admin()
    if refusal is None:
        require_csrf_token()
    return refusal


def views() -> ServiceViews:
    return current_app.extensions["posestudio.views"]


def _duration_s(job: Job) -> float | None:
    """How long the last run took (or has taken so far), in seconds."""
    if job.started_at is None:
        return None
    end = job.finished_at or (datetime.now(timezone.utc) if job.state is JobState.RUNNING else None)
    return None if end is None else max(0.0, (end - job.started_at).total_seconds())


def _row(job: Job, devices: dict[str, str | None]) -> dict[str, Any]:
    return dict(job_json(job), worker=job.worker, attempts=job.attempts, owner=job.owner,
                duration_s=_duration_s(job), device=devices.get(job.worker or ""),
                finished=job.state.is_terminal)


def _filters() -> tuple[str, str, int]:
    """The list's ``state``, ``q`` and ``page`` query parameters, checked (400 naming one)."""
    wanted = request.args.get("state", "").strip()
    if wanted and wanted not in STATES:
        abort(400, description=f"state must be one of {', '.join(STATES)} (or empty for all), got {wanted[:40]!r}.")
    text = request.args.get("q", "").strip()
    if len(text) > MAX_QUERY:
        abort(400, description=f"q (the search) may be at most {MAX_QUERY} characters, got {len(text)}.")
    return wanted, text, int_arg("page", 1, 1, 10**6)


def _back() -> str:
    """Where to return after an action: the list as it was (a path under /admin/ only)."""
    back = request.form.get("back", "")
    return back if back.startswith("/admin/") and "//" not in back and "\\" not in back else url_for("admin.index")


@bp.get("/")
def index() -> str:
    wanted, text, number = _filters()
    page = search_jobs(state().store, states=(wanted,) if wanted else (), text_query=text,
                       offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    broker, broker_age = views().broker.get()
    storage, _ = views().storage.get()
    broker = broker or BrokerStatus(reachable=False, error="The job queue has not answered yet; reload in a moment.")
    devices = {w.name: w.device for w in broker.workers}
    names = {j.id: j.source_name for j in state().store.list_jobs(states=(JobState.RUNNING,), limit=1000)}
    return render_template(
        "admin.html", jobs=[_row(j, devices) for j in page.jobs], page=page, page_number=number,
        pages=max(1, -(-page.total // PAGE_SIZE)), state_filter=wanted, query=text, states=STATES,
        broker=broker, broker_age=broker_age, storage=storage or StorageStatus(), job_names=names,
        settings=state().settings, back=request.full_path.rstrip("?"))


@bp.post("/jobs/<job_id>/cancel")
def cancel(job_id: str) -> Response:
    get_job_or_404(job_id)
    state().store.request_cancel(job_id)
    flash(f"Cancel requested for job {job_id[:8]}.")
    return redirect(_back(), code=303)


@bp.post("/jobs/<job_id>/retry")
def retry(job_id: str) -> Response:
    job = get_job_or_404(job_id)
    if not upload_kept(state().settings, job_id):
        flash(f"Job {job_id[:8]} cannot be retried: its uploaded video is no longer kept "
              f"({job.source_name} was deleted). Upload the video again instead.", "error")
        return redirect(_back(), code=303)
    try:
        state().store.requeue(job_id)
    except JobStateError as exc:
        flash(str(exc), "error")
    else:
        if enqueue_or_fail(job_id):
            flash(f"Job {job_id[:8]} is queued again.")
        else:
            flash(f"Job {job_id[:8]} could not be retried: {QUEUE_UNREACHABLE}.", "error")
    return redirect(_back(), code=303)


@bp.post("/jobs/<job_id>/delete")
def delete(job_id: str) -> Response:
    get_job_or_404(job_id)
    try:
        delete_job(state().store, state().settings, job_id)
    except JobNotFound:
        pass
    flash(f"Job {job_id[:8]} and its files were deleted.")
    return redirect(_back(), code=303)


@bp.post("/jobs/delete")
def delete_many() -> Response:
    """Delete the finished jobs among the ``job_id`` fields sent; others are left, and counted."""
    ids = list(dict.fromkeys(request.form.getlist("job_id")))
    if not ids:
        flash("No jobs were selected.", "error")
        return redirect(_back(), code=303)
    deleted = skipped = 0
    for job_id in ids:
        try:
            job = state().store.get(job_id)
            if not job.state.is_terminal:
                skipped += 1
                continue
            delete_job(state().store, state().settings, job_id)
            deleted += 1
        except (JobNotFound, ValueError):  # gone already, or not a job id at all
            skipped += 1
    message = f"{deleted} finished job{'s' if deleted != 1 else ''} deleted with their files."
    if skipped:
        message += f" {skipped} not deleted: still queued or running, or already gone."
    flash(message, "error" if skipped and not deleted else "message")
    return redirect(_back(), code=303)

"""Admin pages: every job, the queue and the workers; cancel, retry, delete.

Open to loopback clients only (the machine itself, asking for ``127.0.0.1`` or ``localhost``),
unless ``ADMIN_PASSWORD`` is set: then HTTP Basic with any user name and that password, from
anywhere. A reverse proxy on this machine connects from loopback for every visitor: one that
says so (``X-Forwarded-For``, ``Forwarded``, ``X-Real-IP``; Caddy, Apache and most nginx
set-ups) is refused, but a bare nginx ``proxy_pass`` cannot be told apart, so behind a proxy
set ``ADMIN_PASSWORD``. A browser sends either credential on its own, also on a form post from
another site, so every change here needs the CSRF token, with or without the session cookie.
"""
from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from jobs import JobNotFound
from jobs.store import JobStateError
from web.api import job_json
from web.session import require_csrf_token
from web.state import QUEUE_UNREACHABLE, enqueue_or_fail, get_job_or_404, state

bp = Blueprint("admin", __name__, url_prefix="/admin")


#: Headers a reverse proxy adds: a loopback peer that sends one is relaying someone else.
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def _is_loopback_name(name: str | None) -> bool:
    if name is None:
        return False
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _host_name(host: str) -> str:
    """``request.host`` without its port (``[::1]:5000`` -> ``::1``)."""
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_local() -> bool:
    """A client on this machine that asked for this machine by a loopback name: not a reverse
    proxy relaying a visitor, and not a page from another site whose host name was re-pointed
    at 127.0.0.1 (DNS rebinding: it could read the admin page as its own)."""
    if any(name in request.headers for name in PROXY_HEADERS):
        return False
    return _is_loopback_name(request.remote_addr) and _is_loopback_name(_host_name(request.host))


@bp.before_request
def require_admin() -> Response | None:
    password = state().settings.admin_password
    if password:
        auth = request.authorization
        if auth is None or not hmac.compare_digest((auth.password or "").encode(), password.encode()):
            return Response("Admin pages need the admin password (HTTP Basic; any user name).",
                            401, {"WWW-Authenticate": 'Basic realm="Pose Studio admin"'},
                            mimetype="text/plain")
    elif not _is_local():
        abort(403, description="The admin pages are open only on this machine, at "
                               "http://127.0.0.1 or http://localhost. "
                               "Set ADMIN_PASSWORD to use them from elsewhere.")
    require_csrf_token()
    return None


def queue_overview() -> dict[str, Any]:
    """Queue length and live workers from workers.monitor; an error text instead when unreachable."""
    try:
        from workers import monitor

        return {"queue_length": monitor.queue_length(state().settings),
                "workers": monitor.list_workers(state().settings), "error": None}
    except Exception as exc:  # the broker may be down; the page must still show the jobs
        current_app.logger.warning("admin: queue overview unavailable: %s", exc)
        return {"queue_length": None, "workers": [], "error": f"The queue could not be asked: {exc}"}


@bp.get("/")
def index() -> str:
    jobs = [dict(job_json(j), owner=j.owner, worker=j.worker, attempts=j.attempts)
            for j in state().store.list_jobs(limit=500)]
    return render_template("admin.html", jobs=jobs, queue=queue_overview())


@bp.post("/jobs/<job_id>/cancel")
def cancel(job_id: str) -> Response:
    get_job_or_404(job_id)
    state().store.request_cancel(job_id)
    flash(f"Cancel requested for job {job_id[:8]}.")
    return redirect(url_for("admin.index"), code=303)


@bp.post("/jobs/<job_id>/retry")
def retry(job_id: str) -> Response:
    get_job_or_404(job_id)
    try:
        state().store.requeue(job_id)
    except JobStateError as exc:
        flash(str(exc), "error")
    else:
        if enqueue_or_fail(job_id):
            flash(f"Job {job_id[:8]} is queued again.")
        else:
            flash(f"Job {job_id[:8]} could not be retried: {QUEUE_UNREACHABLE}.", "error")
    return redirect(url_for("admin.index"), code=303)


@bp.post("/jobs/<job_id>/delete")
def delete(job_id: str) -> Response:
    from jobs.paths import remove_job_files

    job = get_job_or_404(job_id)
    if not job.state.is_terminal:
        state().store.request_cancel(job_id)
    try:
        state().store.delete(job_id)
    except JobNotFound:
        pass
    remove_job_files(state().settings, job_id)
    flash(f"Job {job_id[:8]} and its files were deleted.")
    return redirect(url_for("admin.index"), code=303)

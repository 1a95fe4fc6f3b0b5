"""What the web layer keeps per app: the settings, the job store and the way to enqueue a job."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from flask import abort, current_app

from config import Settings
from jobs import Job, JobNotFound, JobStore


def _celery_enqueuer(settings: Settings) -> Callable[[str], None]:
    def enqueue(job_id: str) -> None:
        # Imported on first use, so the web app starts without importing Celery's worker side.
        from workers.tasks import enqueue_job

        enqueue_job(job_id, settings=settings)

    return enqueue


@dataclass(frozen=True)
class WebState:
    settings: Settings
    store: JobStore
    enqueue: Callable[[str], None]

    @classmethod
    def create(cls, settings: Settings, *, enqueue: Callable[[str], None] | None = None) -> "WebState":
        store = JobStore(settings.effective_database_url, stale_after_s=settings.job_stale_after_s)
        return cls(settings=settings, store=store, enqueue=enqueue or _celery_enqueuer(settings))


def state() -> WebState:
    """The current app's WebState (inside a request or app context)."""
    return current_app.extensions["posestudio"]


#: What a job id can be (``secrets.token_urlsafe``'s alphabet; the OpenAPI document's pattern).
JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def refuse_impossible_job_ids(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """url_value_preprocessor: a ``job_id`` in the URL that no job can have is a 404 before any
    query (a NUL byte in it was a 500 on PostgreSQL, which cannot hold one in a text value)."""
    job_id = (values or {}).get("job_id")
    if job_id is not None and not JOB_ID.match(job_id):
        abort(404, description=f"There is no job with id {job_id[:80]!r}.")


def get_job_or_404(job_id: str) -> Job:
    """The job, or a 404 (JSON under /api, HTML elsewhere) that names the id; a 410 that says
    so for a job the retention sweep deleted (``jobs.retention``)."""
    try:
        return state().store.get(job_id)
    except JobNotFound:
        from jobs.retention import expired_at

        when = expired_at(state().store, job_id)
        if when is not None:
            abort(410, description=(
                f"This job expired: its video, results and record were deleted on "
                f"{when:%Y-%m-%d} UTC, {state().settings.retention_days} days after it finished "
                "(RETENTION_DAYS). Upload the video again to process it again."))
        abort(404, description=f"There is no job with id {job_id!r}.")


QUEUE_UNREACHABLE = "the job queue could not be reached; try again later"


def enqueue_or_fail(job_id: str) -> bool:
    """Send a queued job to the queue; True if sent. When the broker cannot be reached the job is
    failed with :data:`QUEUE_UNREACHABLE` (an admin can retry it) rather than stranded queued,
    and the broker's own error, which may name hosts or paths, goes to the log only."""
    try:
        state().enqueue(job_id)
    except Exception:  # broker down or misconfigured
        current_app.logger.exception("job %s: could not be sent to the job queue", job_id)
        state().store.mark_failed(job_id, error=QUEUE_UNREACHABLE)
        return False
    state().store.mark_sent(job_id)  # the workers' sweepers send it again if nobody claims it
    return True

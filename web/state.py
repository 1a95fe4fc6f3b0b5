"""What the web layer keeps per app: the settings, the job store and the way to enqueue a job."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import current_app

from config import Settings
from jobs import JobStore


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
        store = JobStore(settings.effective_database_url)
        return cls(settings=settings, store=store, enqueue=enqueue or _celery_enqueuer(settings))


def state() -> WebState:
    """The current app's WebState (inside a request or app context)."""
    return current_app.extensions["posestudio"]

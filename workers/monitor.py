"""What the admin page shows about the queue: how many jobs wait, which workers are alive and
what they are doing. Asks the broker directly and the workers over Celery's broadcast channel
(works with Redis and with the embedded filesystem broker)."""
from __future__ import annotations

from dataclasses import dataclass

from kombu.exceptions import ChannelError

from config import Settings
from workers.celery_app import app_for

QUEUE_NAME = "celery"


@dataclass(frozen=True)
class WorkerInfo:
    """A live worker: its node name (``name@host``) and the ids of the jobs it is running."""

    name: str
    active_jobs: tuple[str, ...]


def queue_length(settings: Settings) -> int:
    """Messages waiting in the job queue (not counting jobs already taken by a worker)."""
    app = app_for(settings)
    with app.connection_for_read() as connection:
        channel = connection.default_channel
        try:
            return int(channel.queue_declare(queue=QUEUE_NAME, passive=True).message_count)
        except ChannelError:  # never declared: no worker or client has used this broker yet
            return 0


def list_workers(settings: Settings, *, timeout_s: float = 1.0) -> list[WorkerInfo]:
    """Workers that answered within ``timeout_s``, sorted by name; [] when none did."""
    replies = app_for(settings).control.inspect(timeout=timeout_s).active() or {}
    return sorted(
        (WorkerInfo(name=name, active_jobs=tuple(
            str(task["args"][0]) for task in tasks or () if task.get("args")))
         for name, tasks in replies.items()),
        key=lambda w: w.name)

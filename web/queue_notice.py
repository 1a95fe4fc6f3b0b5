"""The upload page's warning while the job queue is down: uploads are refused then (503), so the
page says so before anyone picks a file.

Whether the broker accepts a connection (what ``/readyz`` asks, about a second at most when it
does not) is kept fresh in the background (:class:`web.snapshots.Refreshing`, at most every
:data:`REFRESH_S` seconds per web process), and no page ever waits for it: the first page a
process serves starts the first check (it imports Celery, seconds on a loaded machine), and the
pages after it show what it found. No broadcast to the workers, unlike the admin page.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app

from config import Settings
from web.snapshots import Refreshing

log = logging.getLogger(__name__)
REFRESH_S = 10.0
EXTENSION = "posestudio.queue_notice"
QUEUE_DOWN = ("The job queue is not reachable right now, so uploads are refused until it is back. "
              "Try again in a few minutes.")


def broker_reachable(settings: Settings) -> bool:
    """Whether the broker accepts a connection (one attempt of about a second)."""
    from workers.celery_app import app_for

    try:
        with app_for(settings).connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=1)
    except Exception as exc:  # noqa: BLE001 - any failure means the queue is down
        log.warning("upload page: the job queue is not reachable: %s", exc)
        return False
    return True


def init_queue_notice(app: Flask, settings: Settings) -> None:
    app.extensions[EXTENSION] = Refreshing(lambda: broker_reachable(settings), refresh_after_s=REFRESH_S,
                                           first_wait_s=0.0, name="queue-notice")


def queue_notice() -> str | None:
    """The warning to show, or None while the queue is reachable (or not known yet)."""
    reachable, _age = current_app.extensions[EXTENSION].get(wait=False)
    return QUEUE_DOWN if reachable is False else None

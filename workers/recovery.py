"""Crash recovery in the worker: no job stays "running" after its worker died.

* At start-up (``worker_ready``), jobs left running under this worker's node name belong to a
  previous incarnation that died: they are requeued (attempts + 1) or, after
  :data:`MAX_ATTEMPTS`, failed with a reason. Queued jobs are sent again too, because a message
  taken by a worker that was killed before it started the job is gone with the filesystem
  broker; a duplicate is harmless (the store lets only one delivery claim a job).
* While it runs, the worker's main process sweeps every ``JOB_STALE_AFTER_S / 2`` seconds for
  running jobs whose heartbeat went stale (their process was killed while its worker lived on,
  or their whole host died) and recovers those the same way. A pass that fails (database or
  broker away) is tried again at the next sweep, a failed start-up pass included.

Redelivery by the broker (``acks_late`` + ``reject_on_worker_lost``) and this recovery can both
send a job again; only one run can claim it (``JobStore.mark_running`` is a conditional UPDATE
from queued), so a job never runs twice at once.
"""
from __future__ import annotations

import logging
import threading

from celery import signals

from config import Settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
_sweeper_stop = threading.Event()


def recover(settings: Settings, *, dead_workers: tuple[str, ...] = (), resend_queued: bool = False,
            max_attempts: int = MAX_ATTEMPTS) -> list[str]:
    """Recover orphaned jobs and enqueue the requeued ones (plus every queued job, if asked);
    returns the ids sent."""
    from jobs import JobState
    from workers.tasks import enqueue_job, store_for

    store = store_for(settings)
    sent = store.recover_orphans(dead_workers=dead_workers, max_attempts=max_attempts)
    if resend_queued:
        sent += [job.id for job in store.list_jobs(states=(JobState.QUEUED,), limit=10_000)
                 if job.id not in sent]
    for job_id in sent:
        enqueue_job(job_id, settings=settings)
    return sent


def _sweep_forever(settings: Settings, interval_s: float, pending: dict) -> None:
    """Sweep every ``interval_s``. A sweep that fails (the database or the broker is away for a
    moment) is logged and tried again at the next tick; so is a start-up pass that failed
    (``pending``: ``recover``'s keyword arguments for it), until it succeeds."""
    while not _sweeper_stop.wait(interval_s):
        try:
            sent = recover(settings, **pending)
            if pending and sent:
                log.warning("worker start-up, late: sent %d queued job(s) again", len(sent))
            pending = {}
        except Exception:
            log.exception("%s failed; trying again in %.0f s",
                          "start-up recovery" if pending else "orphan sweep", interval_s)


@signals.worker_ready.connect
def _on_worker_ready(sender=None, **_kwargs) -> None:  # noqa: ANN001 - Celery signal API
    settings = getattr(getattr(sender, "app", None), "posestudio_settings", None) or Settings.from_env()
    hostname = getattr(sender, "hostname", None)
    pending: dict = {}
    try:  # here, before this worker runs anything, so its node name's running jobs are all dead
        sent = recover(settings, dead_workers=(hostname,) if hostname else (), resend_queued=True)
        if sent:
            log.warning("worker %s start-up: sent %d queued or orphaned job(s) again", hostname, len(sent))
    except Exception:
        # The sweeper sends the queued jobs again later. It does not name this node's running
        # jobs dead again (by then they may be this worker's own); the predecessor's are found
        # by their stale heartbeats.
        log.exception("start-up recovery failed; the sweeper tries again")
        pending = {"resend_queued": True}
    _sweeper_stop.clear()
    threading.Thread(target=_sweep_forever, args=(settings, settings.job_stale_after_s / 2, pending),
                     name="orphan-sweeper", daemon=True).start()


@signals.worker_shutdown.connect
def _on_worker_shutdown(**_kwargs) -> None:
    _sweeper_stop.set()

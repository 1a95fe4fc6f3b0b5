"""Crash recovery in the worker: no job stays "running" after its worker died, and no job stays
"queued" after its message was lost.

Every worker's main process runs a sweeper thread (every ``JOB_STALE_AFTER_S / 2`` seconds,
the first pass at start-up, before the worker runs anything):

* A running job whose heartbeat is older than ``JOB_STALE_AFTER_S`` is an orphan unless a live
  worker says it is running it (asked over Celery's broadcast channel: a run whose heartbeat is
  only late, on a busy machine, is never declared dead). Orphans are requeued (attempts + 1) or,
  after :data:`MAX_ATTEMPTS`, failed with a reason.
* A queued job whose message is lost is sent again (:meth:`jobs.JobStore.unclaimed`): one
  sent a while ago when the broker's job queue is empty, or when a job sent after it has been
  claimed (the queue is first in, first out). A job waiting in a backlog is never sent again.
  At start-up every queued job is sent again: a message taken by a worker that was killed before
  it started the job is gone.
* A worker is known dead by its node name only when whoever ran it saw its process exit
  (``posestudio serve`` after a restart): node names are unique per process, so a starting
  worker never takes another live worker's jobs for its predecessor's.

A pass that fails (database or broker away) is logged and tried again at the next tick.
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
#: How long the sweeper waits for live workers to say which jobs they are running.
INSPECT_TIMEOUT_S = 2.0
_sweeper_stop = threading.Event()


def recover(settings: Settings, *, dead_workers: tuple[str, ...] = (), resend_queued: bool = False,
            max_attempts: int = MAX_ATTEMPTS) -> list[str]:
    """One pass: recover orphaned jobs, send unclaimed queued jobs again (every queued job, with
    ``resend_queued``); returns the ids sent. ``dead_workers``: node names whose process is
    known to have exited; their running jobs are orphans whatever their heartbeat says."""
    from jobs import JobState
    from workers.tasks import enqueue_job, store_for

    from jobs.retention import remove_stale_partials

    store = store_for(settings)
    alive = _jobs_live_workers_run(settings) if store.stale_running() else set()
    sent = store.recover_orphans(dead_workers=dead_workers, max_attempts=max_attempts, alive=alive)
    for name in remove_stale_partials(store, settings):  # a job failed on its last attempt left it
        log.info("removed %s, a stopped run's unfinished outputs", name)
    if resend_queued:
        queued = [job.id for job in store.list_jobs(states=(JobState.QUEUED,), limit=10_000)][::-1]
    else:
        from workers.monitor import queue_length

        queued = store.unclaimed(resend_after_s=settings.job_stale_after_s,
                                 broker_empty=queue_length(settings) == 0)
    sent += [job_id for job_id in queued if job_id not in sent]
    for job_id in sent:
        enqueue_job(job_id, settings=settings)
        store.mark_sent(job_id)
    return sent


def _jobs_live_workers_run(settings: Settings) -> set[str]:
    """Ids of the jobs that the workers answering the broadcast are running."""
    from workers.monitor import list_workers

    workers = list_workers(settings, timeout_s=INSPECT_TIMEOUT_S)
    alive = {job_id for worker in workers for job_id in worker.active_jobs}
    if alive:
        log.info("late heartbeats, but running on a live worker: %s", ", ".join(sorted(alive)))
    return alive


def _sweep_forever(settings: Settings, interval_s: float, pending: dict) -> None:
    """Sweep every ``interval_s``. A sweep that fails (the database or the broker is away for a
    moment) is logged and tried again at the next tick; so is a start-up pass that failed
    (``pending``: ``recover``'s keyword arguments for it), until it succeeds."""
    while not _sweeper_stop.wait(interval_s):
        try:
            sent = recover(settings, **pending)
            if sent:
                log.warning("%s: sent %d job(s) again", "worker start-up, late" if pending else "sweep",
                            len(sent))
            pending = {}
        except Exception as exc:
            _log_failed_pass("start-up recovery" if pending else "orphan sweep", exc, interval_s)


def _log_failed_pass(what: str, exc: Exception, interval_s: float) -> None:
    """One line when the job database is away (it happens, and says all there is to say); the
    traceback for anything else."""
    from jobs import database_unavailable
    from jobs.store import first_line

    if database_unavailable(exc):
        log.warning("%s: the job database does not answer (%s); trying again in %.0f s",
                    what, first_line(exc), interval_s)
    else:
        log.error("%s failed; trying again in %.0f s", what, interval_s, exc_info=exc)


@signals.worker_ready.connect
def _on_worker_ready(sender=None, **_kwargs) -> None:  # noqa: ANN001 - Celery signal API
    settings = getattr(getattr(sender, "app", None), "posestudio_settings", None) or Settings.from_env()
    hostname = getattr(sender, "hostname", None)
    pending: dict = {}
    try:
        sent = recover(settings, resend_queued=True)
        if sent:
            log.warning("worker %s start-up: sent %d queued or orphaned job(s) again", hostname, len(sent))
    except Exception as exc:
        _log_failed_pass("start-up recovery", exc, settings.job_stale_after_s / 2)
        pending = {"resend_queued": True}
    _sweeper_stop.clear()
    threading.Thread(target=_sweep_forever, args=(settings, settings.job_stale_after_s / 2, pending),
                     name="orphan-sweeper", daemon=True).start()


@signals.worker_shutdown.connect
def _on_worker_shutdown(**_kwargs) -> None:
    _sweeper_stop.set()

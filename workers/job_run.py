"""One run of one job inside a worker: the glue between the pipeline's callbacks and the store.

While the pipeline works, :class:`JobRun` keeps the job's heartbeat fresh from a background
thread, writes progress at most a few times a second, and answers the pipeline's cancel check
from the store at most once a second. It also notices when the run has lost its claim on the
job (the job was deleted, or declared orphaned and handed to another run): the cancel check
then says stop, and :attr:`claim_lost` tells the task not to record anything.

The job database may be away for a moment (restarted, failed over): the run goes on. A
heartbeat or progress write that fails is skipped (the next one carries the news), the cancel
check keeps its last answer, and the run's last write (:func:`until_recorded`) waits for the
database, up to :data:`DATABASE_PATIENCE_S`.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, TypeVar

from jobs import JobNotFound, JobStore, database_unavailable
from jobs.store import first_line

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_S = 10.0
PROGRESS_INTERVAL_S = 0.5
CANCEL_CHECK_INTERVAL_S = 1.0
#: How long a run's last write (succeeded, failed, cancelled) waits for an unreachable database.
DATABASE_PATIENCE_S = 300.0

T = TypeVar("T")


def until_recorded(write: Callable[[], T], *, what: str, patience_s: float = DATABASE_PATIENCE_S,
                   sleep: Callable[[float], None] = time.sleep) -> T:
    """``write()``, tried again (0.5 s, 1 s, 2 s ... 10 s apart) while the job database does
    not answer, for up to ``patience_s``; then its error is raised. Any other error is raised at
    once. ``what`` names the write in the log ("job 3x...: result")."""
    deadline = time.monotonic() + patience_s
    delay = 0.5
    while True:
        try:
            return write()
        except Exception as exc:
            if not database_unavailable(exc) or time.monotonic() + delay > deadline:
                raise
            log.warning("%s: the job database does not answer (%s); trying again in %.1f s",
                        what, first_line(exc), delay)
        sleep(delay)
        delay = min(delay * 2, 10.0)


class JobRun:
    """Context manager around one claimed run; ``claim`` comes from ``JobStore.mark_running``."""

    def __init__(self, store: JobStore, job_id: str, claim: str, *,
                 heartbeat_interval_s: float = HEARTBEAT_INTERVAL_S,
                 progress_interval_s: float = PROGRESS_INTERVAL_S,
                 cancel_check_interval_s: float = CANCEL_CHECK_INTERVAL_S):
        self.store, self.job_id, self.claim = store, job_id, claim
        self._heartbeat_interval_s = heartbeat_interval_s
        self._progress_interval_s = progress_interval_s
        self._cancel_check_interval_s = cancel_check_interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id}", daemon=True)
        self._last_progress_at = 0.0
        self._last_stage: str | None = None
        self._last_cancel_check_at = 0.0
        self._cancel = False
        self._database_away = False
        self.claim_lost = False

    def __enter__(self) -> "JobRun":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        while not self._stop.wait(self._heartbeat_interval_s):
            try:
                if not self.store.heartbeat(self.job_id, claim=self.claim):
                    self.claim_lost = True
            except Exception:  # a database hiccup: the next beat tries again
                continue

    def on_progress(self, progress: Any) -> None:
        """The pipeline's ``on_progress``: a ``pipeline.video.Progress``."""
        now = time.monotonic()
        if progress.stage == self._last_stage and now - self._last_progress_at < self._progress_interval_s:
            return
        self._last_stage, self._last_progress_at = progress.stage, now
        total = progress.frames_total
        fraction = getattr(progress, "fraction", None)  # of the whole run (both passes)
        if fraction is None:
            fraction = progress.frames_done / total if total else 0.0
        try:
            written = self.store.update_progress(
                self.job_id, stage=progress.stage, progress=fraction, fps=progress.fps,
                eta_s=progress.eta_s, frames_done=progress.frames_done, frames_total=total,
                claim=self.claim)
        except JobNotFound:  # deleted: the cancel check stops the run
            written = False
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            self._database_lost(exc)  # the next write carries the news
            return
        self._database_back()
        if not written:
            self.claim_lost = True

    def _database_lost(self, exc: BaseException) -> None:
        if not self._database_away:
            self._database_away = True
            log.warning("job %s: the job database does not answer (%s); the run goes on, and its "
                        "progress is recorded again once the database is back", self.job_id, first_line(exc))

    def _database_back(self) -> None:
        if self._database_away:
            self._database_away = False
            log.warning("job %s: the job database answers again; progress recorded", self.job_id)

    def should_cancel(self) -> bool:
        """The pipeline's ``should_cancel``: asks the store at most once a second."""
        now = time.monotonic()
        if self._cancel or self.claim_lost:
            return True
        if now - self._last_cancel_check_at >= self._cancel_check_interval_s:
            self._last_cancel_check_at = now
            try:
                job = self.store.get(self.job_id)
            except JobNotFound:
                self.claim_lost = True
                return True
            except Exception as exc:
                if not database_unavailable(exc):
                    raise
                self._database_lost(exc)
                return self._cancel  # the last answer stands until the database is back
            if job.claim != self.claim:
                self.claim_lost = True
            self._cancel = job.cancel_requested or self.claim_lost
        return self._cancel

"""The job store: every job's state, progress and results in one SQL table.

SQLite (a file, WAL journal, busy timeout) by default, PostgreSQL by URL. The web app and the
workers share it; it survives restarts of both. Callers get :class:`Job` snapshots (plain frozen
dataclasses), never ORM objects.

Ownership of a running job (why a job never runs twice at once)
    :meth:`JobStore.mark_running` *claims* a job: one conditional UPDATE moves it from queued to
    running and stores a random ``claim`` token, so of two deliveries of one job only one wins.
    The winner keeps ``heartbeat_at`` fresh (:meth:`heartbeat`) and passes its token to every
    later write; writes carrying a token that no longer owns the job are ignored (they return
    False), so a run that was declared dead cannot overwrite the run that replaced it.
    A running job whose heartbeat is older than ``stale_after_s``, or whose worker is known to
    have died, is an orphan: :meth:`recover_orphans` requeues it (attempts + 1) or, after
    ``max_attempts``, fails it with a reason.
"""
from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, func, inspect, or_, select, text, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from jobs.models import Base, JobRow

log = logging.getLogger(__name__)

ORPHAN_REASON = (
    "the worker processing this job stopped unexpectedly (it was killed or lost power) "
    "{attempts} times; retry the job, or try a shorter video or a smaller network size"
)


class JobState(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


class JobNotFound(LookupError):
    """No job has this id (it never existed, or it was deleted)."""

    def __init__(self, job_id: str):
        super().__init__(f"no job with id {job_id!r}")
        self.job_id = job_id


class JobStateError(RuntimeError):
    """The job is not in a state that allows this change (e.g. retrying a running job)."""


@dataclass(frozen=True)
class Job:
    """A snapshot of one job. Datetimes are aware UTC; ``progress`` is 0..1."""

    id: str
    state: JobState
    stage: str | None
    progress: float
    fps: float | None
    eta_s: float | None
    frames_done: int
    frames_total: int | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    worker: str | None
    claim: str | None
    source_name: str
    source_meta: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)
    owner: str | None = None
    cancel_requested: bool = False
    attempts: int = 1
    #: What the input is: "video" (one video; also every job recorded before kinds existed),
    #: "images" (photos), "multiview" (views + calibration).
    kind: str = "video"

    @property
    def is_finished(self) -> bool:
        return self.state.is_terminal

    def is_stalled(self, stale_after_s: float, *, now: datetime | None = None) -> bool:
        """True when the job is running but its worker has not reported for ``stale_after_s``
        seconds: the worker is probably gone, and a worker's sweep will requeue the job."""
        if self.state is not JobState.RUNNING or self.heartbeat_at is None:
            return False
        now = now or datetime.now(timezone.utc)
        return (now - self.heartbeat_at).total_seconds() > stale_after_s


def _now() -> datetime:
    """Naive UTC, the form stored in the table."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=timezone.utc)


def _storable(text: str) -> str:
    """``text`` with each NUL byte as U+FFFD: PostgreSQL's text types cannot hold one (a script
    can send any file name, and an error message may quote it), and SQLite then stores the same."""
    return text.replace("\x00", "\ufffd")


def _snapshot(row: JobRow) -> Job:
    return Job(
        id=row.id, state=JobState(row.state), stage=row.stage, progress=row.progress or 0.0,
        fps=row.fps, eta_s=row.eta_s, frames_done=row.frames_done or 0,
        frames_total=row.frames_total, error=row.error, created_at=_aware(row.created_at),
        started_at=_aware(row.started_at), finished_at=_aware(row.finished_at),
        heartbeat_at=_aware(row.heartbeat_at), worker=row.worker, claim=row.claim,
        source_name=row.source_name, source_meta=dict(row.source_meta or {}),
        options=dict(row.options or {}), outputs=dict(row.outputs or {}),
        timings=dict(row.timings or {}), owner=row.owner,
        cancel_requested=bool(row.cancel_requested), attempts=row.attempts or 1,
        kind=row.kind or "video",
    )


def normalize_database_url(database_url: str) -> str:
    """``postgres://`` and driver-less ``postgresql://`` URLs (what hosting services hand out)
    use psycopg 3, the driver this project installs, instead of SQLAlchemy's psycopg2 default."""
    for prefix in ("postgres://", "postgresql://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix):]
    return database_url


#: How long a SQLite statement waits for another process's lock before "database is locked".
SQLITE_BUSY_TIMEOUT_S = 30


def _make_engine(database_url: str) -> Engine:
    if database_url.startswith("sqlite"):
        busy_s = SQLITE_BUSY_TIMEOUT_S
        engine = create_engine(database_url, connect_args={"timeout": busy_s})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DB-API objects
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_s * 1000)}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(database_url, pool_pre_ping=True)


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached or dropped the connection (it
    restarted, failed over, the network broke, SQLite's file is locked or full): worth trying
    again later, unlike a bad query. Such errors never name a job; callers say "the job
    database is unreachable" and keep what they were doing."""
    return isinstance(exc, (OperationalError, InterfaceError)) or (
        isinstance(exc, DBAPIError) and bool(exc.connection_invalidated))


#: What :func:`database_trouble` tells apart: the database is there but will not take a write
#: just now (another process holds SQLite's lock), or its disk is full; else it is unreachable.
LOCKED, FULL, UNREACHABLE = "locked", "full", "unreachable"


def database_trouble(exc: BaseException) -> str:
    """Which of :data:`LOCKED`, :data:`FULL` or :data:`UNREACHABLE` an error for which
    :func:`database_unavailable` holds is: SQLite's "database is locked" (SQLITE_BUSY) and
    "database or disk is full" (SQLITE_FULL), PostgreSQL's disk_full (53100)."""
    orig = getattr(exc, "orig", None) or exc
    name = getattr(orig, "sqlite_errorname", "") or ""
    text = str(orig).lower()
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in text:
        return LOCKED
    if (name.startswith("SQLITE_FULL") or "database or disk is full" in text
            or getattr(orig, "sqlstate", None) == "53100"):
        return FULL
    return UNREACHABLE


class _Sessions:
    """The store's sessionmaker (``store._sessions()`` and ``store._sessions.begin()``), which
    first makes sure the tables exist: creating them waits, when the database was away as the
    store was made, for the first call that finds it there (each call until then raises the
    database's error, see :func:`database_unavailable`)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._maker = sessionmaker(engine, expire_on_commit=False)
        self._lock = threading.Lock()
        self.schema_ready = False

    def ensure_schema(self) -> None:
        if not self.schema_ready:
            with self._lock:
                if not self.schema_ready:
                    _create_schema(self._engine)
                    self.schema_ready = True

    def __call__(self) -> Session:
        self.ensure_schema()
        return self._maker()

    def begin(self):  # noqa: ANN201 - sessionmaker.begin's context manager
        self.ensure_schema()
        return self._maker.begin()


def first_line(exc: BaseException) -> str:
    """The database error's own first line, without SQLAlchemy's SQL, parameters and links:
    ``connection failed: ... Connection refused``."""
    text_ = str(getattr(exc, "orig", None) or exc).strip()
    return text_.splitlines()[0] if text_ else type(exc).__name__


def _create_schema(engine: Engine) -> None:
    """The tables, and the columns added since a database was created (nullable, so no
    backfill). Several processes may do this at once on a new database (serve's web processes
    and its worker): a table or column another one made between our look and our CREATE/ALTER
    is what we wanted, so that error is only raised when the thing is still missing."""
    for table in Base.metadata.sorted_tables:
        try:
            table.create(engine, checkfirst=True)
        except DatabaseError:
            if not inspect(engine).has_table(table.name):
                raise
    for column in _missing_columns(engine):
        kind = column.type.compile(dialect=engine.dialect)
        try:
            with engine.begin() as connection:
                connection.execute(text(f"ALTER TABLE {JobRow.__tablename__} ADD COLUMN {column.name} {kind}"))
        except DatabaseError:
            if column in _missing_columns(engine):
                raise


def _missing_columns(engine: Engine) -> list:
    present = {column["name"] for column in inspect(engine).get_columns(JobRow.__tablename__)}
    return [c for c in JobRow.__table__.columns if c.name not in present]


def _queued_again() -> dict[str, Any]:
    """What a job looks like again when it goes back to the queue (retry or orphan recovery)."""
    return dict(
        state=JobState.QUEUED.value, attempts=JobRow.attempts + 1, stage=None, progress=0.0,
        fps=None, eta_s=None, error=None, frames_done=0, frames_total=None, started_at=None,
        finished_at=None, heartbeat_at=None, worker=None, claim=None, cancel_requested=False,
        outputs={}, timings={}, queued_at=_now(), sent_at=None,
    )


#: Seconds by which a job must have been sent after another for its claim to show that the
#: other's message was lost (the sending hosts' clocks may differ by a few seconds).
SEND_ORDER_MARGIN_S = 5.0


class JobStore:
    """Jobs in a SQL database. Safe to share between threads; create one per process.

    ``database_url``: any SQLAlchemy URL, e.g. ``sqlite:////srv/posestudio/instance/db.sqlite3``
    or ``postgresql+psycopg://user@host/db``; the table is created if missing.
    ``stale_after_s`` (default 60): a running job with no heartbeat for this long is an orphan.
    A database that does not answer yet is no error here: the tables are made by the first call
    that reaches it (:attr:`schema_ready` says whether one has), and each call until then raises
    the database's error (:func:`database_unavailable` is true of it).
    """

    def __init__(self, database_url: str, *, stale_after_s: float = 60.0):
        database_url = normalize_database_url(database_url)
        if database_url.startswith("sqlite:///"):
            db_path = database_url.removeprefix("sqlite:///")
            if db_path and db_path != ":memory:":
                Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.stale_after_s = stale_after_s
        self._engine = _make_engine(database_url)
        self._sessions = _Sessions(self._engine)
        try:
            self.ensure_schema()
        except DBAPIError as exc:
            if not database_unavailable(exc):
                raise
            log.info("the job database does not answer (%s); its tables are made once it does",
                     first_line(exc))

    def ensure_schema(self) -> None:
        """Make the tables now if no call has yet; raises the database's error when it does not
        answer (:func:`database_unavailable`)."""
        self._sessions.ensure_schema()

    @property
    def schema_ready(self) -> bool:
        """Whether the database has answered since this store was made (its tables exist)."""
        return self._sessions.schema_ready

    def close(self) -> None:
        self._engine.dispose()

    # -- reading ---------------------------------------------------------------------------
    def get(self, job_id: str) -> Job:
        with self._sessions() as session:
            return _snapshot(self._row(session, job_id))

    def list_jobs(self, *, owner: str | None = None, limit: int = 100,
                  states: Collection[JobState] | None = None) -> list[Job]:
        """Newest first. ``owner=None`` lists everyone's jobs; ``states`` filters by state."""
        query = select(JobRow).order_by(JobRow.created_at.desc(), JobRow.id).limit(limit)
        if owner is not None:
            query = query.where(JobRow.owner == owner)
        if states is not None:
            query = query.where(JobRow.state.in_([JobState(s).value for s in states]))
        with self._sessions() as session:
            return [_snapshot(row) for row in session.scalars(query)]

    def is_cancel_requested(self, job_id: str) -> bool:
        """True when someone asked to cancel, or the job is gone or no longer running."""
        with self._sessions() as session:
            row = session.get(JobRow, job_id)
            return row is None or bool(row.cancel_requested) or row.state != JobState.RUNNING.value

    # -- creating and deleting -------------------------------------------------------------
    def create_job(self, *, job_id: str | None = None, source_name: str, options: dict,
                   owner: str | None, source_meta: dict, kind: str = "video") -> Job:
        """A new queued job; ``job_id`` defaults to an unguessable ``secrets.token_urlsafe(16)``;
        ``kind`` says what its input is (see :attr:`Job.kind`)."""
        row = JobRow(
            id=job_id or secrets.token_urlsafe(16), state=JobState.QUEUED.value, stage=None, kind=kind,
            progress=0.0, frames_done=0, created_at=_now(), source_name=_storable(source_name)[:255],
            source_meta=dict(source_meta), options=dict(options), outputs={}, timings={},
            owner=owner, cancel_requested=False, attempts=1, queued_at=_now(),
        )
        with self._sessions.begin() as session:
            session.add(row)
        return _snapshot(row)

    def delete(self, job_id: str) -> None:
        """Remove the record (files are :func:`jobs.paths.remove_job_files`'s business).
        A run still working on it notices at its next heartbeat and stops."""
        with self._sessions.begin() as session:
            if session.execute(sql_delete(JobRow).where(JobRow.id == job_id)).rowcount == 0:
                raise JobNotFound(job_id)

    # -- sending -----------------------------------------------------------------------------
    def mark_sent(self, job_id: str) -> bool:
        """Record that a queued job was just sent to the broker; False if it is no longer queued."""
        return self._guarded(job_id, None, {"sent_at": _now()}, from_states=(JobState.QUEUED,),
                             must_exist=False)

    def unclaimed(self, *, resend_after_s: float, broker_empty: bool) -> list[str]:
        """Ids of queued jobs whose message is lost, to send again, oldest first: never sent;
        or sent at least ``resend_after_s`` ago and either the broker holds no message
        (``broker_empty``: the broker's job queue is empty) or a job sent later has been claimed
        since (the queue is first in, first out: it would have handed this one out first).

        A job waiting behind others, its message in the queue, is never sent again, however
        long the backlog (sending every waiting job again at intervals made a backlog of 86
        jobs cost 298 deliveries). Send times come from the clocks of the hosts that sent;
        :data:`SEND_ORDER_MARGIN_S` covers their skew."""
        now = _now()
        sent = func.coalesce(JobRow.sent_at, JobRow.queued_at, JobRow.created_at)
        with self._sessions() as session:
            latest_claimed = session.scalar(select(func.max(sent)).where(JobRow.started_at.is_not(None)))
            rows = session.execute(select(JobRow.id, JobRow.sent_at)
                                   .where(JobRow.state == JobState.QUEUED.value)
                                   .order_by(JobRow.created_at)).all()
        due = []
        for job_id, sent_at in rows:
            if sent_at is None:
                due.append(job_id)
            elif (now - sent_at).total_seconds() >= resend_after_s and (
                    broker_empty or (latest_claimed is not None
                                     and (latest_claimed - sent_at).total_seconds() > SEND_ORDER_MARGIN_S)):
                due.append(job_id)
        return due

    # -- the worker's side -----------------------------------------------------------------
    def mark_running(self, job_id: str, *, worker: str) -> Job:
        """Claim a queued job for one run. Raises :class:`JobStateError` when it is not queued
        (another delivery of the same job got it first, or it was cancelled or finished)."""
        claim = secrets.token_hex(16)
        now = _now()
        values = dict(state=JobState.RUNNING.value, worker=worker[:255], claim=claim,
                      started_at=now, heartbeat_at=now, stage="starting", progress=0.0,
                      frames_done=0, error=None)
        with self._sessions.begin() as session:
            result = session.execute(update(JobRow).where(
                JobRow.id == job_id, JobRow.state == JobState.QUEUED.value).values(**values))
            row = self._row(session, job_id)
            if result.rowcount == 0:
                raise JobStateError(f"job {job_id} is {row.state}, not queued; not starting it")
            return _snapshot(row)

    def heartbeat(self, job_id: str, *, claim: str) -> bool:
        """Record a sign of life; False when this run no longer owns the job (stop working)."""
        return self._guarded(job_id, claim, {"heartbeat_at": _now()}, must_exist=False)

    def update_progress(self, job_id: str, *, stage: str, progress: float, fps: float | None,
                        eta_s: float | None, frames_done: int, frames_total: int | None,
                        claim: str | None = None) -> bool:
        """Store live progress (``progress`` is clamped to 0..1); also counts as a heartbeat."""
        values = dict(stage=stage[:64], progress=min(max(float(progress), 0.0), 1.0),
                      fps=fps, eta_s=eta_s, frames_done=int(frames_done),
                      frames_total=frames_total, heartbeat_at=_now())
        return self._guarded(job_id, claim, values)

    def mark_succeeded(self, job_id: str, *, outputs: dict, timings: dict,
                       claim: str | None = None, frames_done: int | None = None) -> bool:
        """``frames_done``: the frames the run processed, recorded with the result (a progress
        write skipped while the database was away would otherwise leave an older count)."""
        values = dict(state=JobState.SUCCEEDED.value, stage="done", progress=1.0, eta_s=0.0,
                      outputs=dict(outputs), timings=dict(timings), finished_at=_now(),
                      error=None, claim=None)
        if frames_done is not None:
            values.update(frames_done=int(frames_done), frames_total=int(frames_done))
        return self._guarded(job_id, claim, values)

    def mark_failed(self, job_id: str, *, error: str, claim: str | None = None) -> bool:
        """Fail a queued or running job with a message a person can act on (no traceback)."""
        values = dict(state=JobState.FAILED.value, error=_storable(error), finished_at=_now(), eta_s=None,
                      claim=None)
        return self._guarded(job_id, claim, values, from_states=(JobState.QUEUED, JobState.RUNNING))

    def mark_cancelled(self, job_id: str, *, claim: str | None = None) -> bool:
        values = dict(state=JobState.CANCELLED.value, stage="cancelled", finished_at=_now(),
                      eta_s=None, claim=None)
        return self._guarded(job_id, claim, values, from_states=(JobState.QUEUED, JobState.RUNNING))

    # -- the people's side -----------------------------------------------------------------
    def request_cancel(self, job_id: str) -> Job:
        """A queued job is cancelled at once; a running one gets a flag its worker checks about
        once a second, or, when it has stalled (no heartbeat for ``stale_after_s``: no worker is
        there to see the flag), is cancelled at once too. Finished jobs are returned unchanged."""
        self._guarded(job_id, None, dict(state=JobState.CANCELLED.value, stage="cancelled",
                                         finished_at=_now()), from_states=(JobState.QUEUED,))
        self._guarded(job_id, None, dict(cancel_requested=True))
        job = self.get(job_id)
        if job.is_stalled(self.stale_after_s):
            # One UPDATE on the claim seen and a heartbeat still stale, so a run that reports in
            # meanwhile keeps its job (and sees the flag); a run that was only slow finds its
            # claim gone at its next heartbeat and stops, as it does when its job is deleted.
            stale_before = _now() - timedelta(seconds=self.stale_after_s)
            self._guarded(job_id, job.claim, dict(state=JobState.CANCELLED.value, stage="cancelled",
                                                  claim=None, finished_at=_now(), eta_s=None),
                          where=(JobRow.heartbeat_at < stale_before,))
            job = self.get(job_id)
        return job

    def requeue(self, job_id: str) -> Job:
        """Retry a failed or cancelled job: back to queued with ``attempts + 1`` and its progress,
        error and outputs cleared. The caller enqueues it (``workers.tasks.enqueue_job``)."""
        if not self._guarded(job_id, None, _queued_again(),
                             from_states=(JobState.FAILED, JobState.CANCELLED)):
            state = self.get(job_id).state.value
            raise JobStateError(f"job {job_id} is {state}; only failed or cancelled jobs "
                                "can be retried")
        return self.get(job_id)

    def requeue_running(self, job_id: str, *, claim: str, max_attempts: int, reason: str) -> bool:
        """Hand a running job back, as orphan recovery does for a worker that died: queued again
        (attempts + 1; returns True: enqueue it) while ``attempts < max_attempts``, else failed
        with ``reason``. Only while ``claim`` still owns it; False when it did not go back."""
        job = self.get(job_id)
        if job.attempts < max_attempts:
            return self._guarded(job_id, claim, _queued_again(), must_exist=False)
        self._guarded(job_id, claim, dict(state=JobState.FAILED.value, claim=None, finished_at=_now(),
                                          eta_s=None, error=reason), must_exist=False)
        return False

    def stale_running(self) -> list[str]:
        """Ids of running jobs whose heartbeat is older than ``stale_after_s`` (or missing)."""
        stale_before = _now() - timedelta(seconds=self.stale_after_s)
        query = select(JobRow.id).where(
            JobRow.state == JobState.RUNNING.value,
            or_(JobRow.heartbeat_at.is_(None), JobRow.heartbeat_at < stale_before))
        with self._sessions() as session:
            return list(session.scalars(query))

    def recover_orphans(self, *, worker_hostnames_alive: Collection[str] | None = None,
                        dead_workers: Collection[str] = (), max_attempts: int = 3,
                        reason: str = ORPHAN_REASON, alive: Collection[str] = ()) -> list[str]:
        """Requeue or fail running jobs whose run is gone; returns the ids requeued (enqueue them).

        A running job is an orphan when its heartbeat is older than ``stale_after_s``, when its
        worker is in ``dead_workers`` (e.g. the node name of a worker that is starting up: its
        previous incarnation died), or, when ``worker_hostnames_alive`` is given, when its worker
        is not in it. Orphans someone asked to cancel become cancelled; others with
        ``attempts < max_attempts`` go back to queued (attempts + 1); the rest fail with
        ``reason`` (``{attempts}`` is filled in). Each change is one
        conditional UPDATE on the claim seen, so concurrent recoveries never act twice.
        ``alive``: ids of jobs that a live worker says it is running; never orphans.
        """
        stale_before = _now() - timedelta(seconds=self.stale_after_s)
        requeued: list[str] = []
        for job in self.list_jobs(states=(JobState.RUNNING,), limit=10_000):
            heartbeat = job.heartbeat_at.replace(tzinfo=None) if job.heartbeat_at else None
            worker_dead = (job.worker in dead_workers
                           or (worker_hostnames_alive is not None
                               and job.worker not in worker_hostnames_alive))
            if job.id in alive or not (worker_dead or heartbeat is None or heartbeat < stale_before):
                continue
            # Judged by its heartbeat alone: only while it is still stale when the UPDATE runs.
            still_stale = () if worker_dead else (
                or_(JobRow.heartbeat_at.is_(None), JobRow.heartbeat_at < stale_before),)
            if job.cancel_requested:  # it was being cancelled anyway: finish that
                values = dict(state=JobState.CANCELLED.value, stage="cancelled", claim=None,
                              finished_at=_now(), eta_s=None)
                verb = "cancelled"
            elif job.attempts < max_attempts:
                values, verb = _queued_again(), "requeued"
            else:
                values = dict(state=JobState.FAILED.value, claim=None, finished_at=_now(),
                              eta_s=None, error=reason.format(attempts=job.attempts))
                verb = "failed"
            if self._guarded(job.id, job.claim, values, must_exist=False, where=still_stale):
                log.warning("job %s: worker %s stopped (attempt %d); %s", job.id, job.worker,
                            job.attempts, verb)
                if verb == "requeued":
                    requeued.append(job.id)
        return requeued

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _row(session: Session, job_id: str) -> JobRow:
        row = session.get(JobRow, job_id)
        if row is None:
            raise JobNotFound(job_id)
        return row

    def _guarded(self, job_id: str, claim: str | None, values: dict, *,
                 from_states: tuple[JobState, ...] = (JobState.RUNNING,),
                 must_exist: bool = True, where: tuple = ()) -> bool:
        """UPDATE the job if it is in ``from_states``, (when ``claim`` is given) still owned
        by that claim, and meets the extra ``where`` conditions. Returns whether it applied;
        raises JobNotFound for a missing job."""
        conditions = [JobRow.id == job_id, JobRow.state.in_([s.value for s in from_states]), *where]
        if claim is not None:
            conditions.append(JobRow.claim == claim)
        with self._sessions.begin() as session:
            if session.execute(update(JobRow).where(*conditions).values(**values)).rowcount:
                return True
            if must_exist and session.get(JobRow, job_id) is None:
                raise JobNotFound(job_id)
            return False

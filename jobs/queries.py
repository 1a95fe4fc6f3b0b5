"""Read-only questions about the job table for the admin page, the metrics and the health check.

Functions over a :class:`jobs.JobStore` (they use its sessions, as the package's own modules
may): how many jobs are in each state, one page of jobs matching a filter, whether the
database answers at all, and whether it takes a write (:func:`probe_write`, for ``/readyz``).
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import time

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from jobs.models import JobRow, TallyRow
from jobs.store import Job, JobState, JobStore, _snapshot


def count_by_state(store: JobStore) -> dict[str, int]:
    """Jobs per state, every state present (0 where none): ``{"queued": 2, "running": 1, ...}``."""
    counts = {s.value: 0 for s in JobState}
    with store._sessions() as session:
        for state, number in session.execute(select(JobRow.state, func.count()).group_by(JobRow.state)):
            counts[state] = int(number)
    return counts


def count_active(store: JobStore, owner: str | None) -> int:
    """Jobs of ``owner`` (None: jobs created without a session) that are queued or running."""
    query = select(func.count()).select_from(JobRow).where(
        JobRow.state.in_([JobState.QUEUED.value, JobState.RUNNING.value]),
        JobRow.owner.is_(None) if owner is None else JobRow.owner == owner)
    with store._sessions() as session:
        return int(session.scalar(query))


@dataclass(frozen=True)
class JobPage:
    """Jobs ``offset`` .. ``offset + len(jobs)`` of the ``total`` that match, newest first."""

    jobs: list[Job]
    total: int
    offset: int
    limit: int

    @property
    def has_next(self) -> bool:
        return self.offset + self.limit < self.total


def search_jobs(store: JobStore, *, states: Collection[JobState | str] = (), text_query: str = "",
                offset: int = 0, limit: int = 50) -> JobPage:
    """One page of jobs, newest first: in one of ``states`` (all when empty) and, when
    ``text_query`` is given, whose video name contains it (any case) or whose id starts with it."""
    conditions = []
    if states:
        conditions.append(JobRow.state.in_([JobState(s).value for s in states]))
    query_text = text_query.strip()
    if query_text:
        conditions.append(or_(JobRow.source_name.icontains(query_text, autoescape=True),
                              JobRow.id.startswith(query_text, autoescape=True)))
    rows = (select(JobRow).where(*conditions).order_by(JobRow.created_at.desc(), JobRow.id)
            .offset(offset).limit(limit))
    with store._sessions() as session:
        total = session.scalar(select(func.count()).select_from(JobRow).where(*conditions)) or 0
        jobs = [_snapshot(row) for row in session.scalars(rows)]
    return JobPage(jobs=jobs, total=int(total), offset=offset, limit=limit)


def ping(store: JobStore) -> None:
    """Raise (sqlalchemy.exc.SQLAlchemyError) unless the database answers a trivial query."""
    with store._sessions() as session:
        session.execute(text("SELECT 1"))


#: The row of ``posestudio_tallies`` that :func:`probe_write` sets (no metric reads it).
PROBE_ROW = "readyz:last_write"


def probe_write(store: JobStore) -> None:
    """Raise (sqlalchemy.exc.SQLAlchemyError) unless the database takes a write, committed: one
    small row set to the time. A database that is read-only or whose disk is full answers a
    SELECT and still cannot take a job."""
    try:
        with store._sessions.begin() as session:
            result = session.execute(update(TallyRow).where(TallyRow.name == PROBE_ROW).values(value=time.time()))
            if not result.rowcount:
                session.add(TallyRow(name=PROBE_ROW, value=time.time()))
    except IntegrityError:  # another process inserted the row first: the database took its write
        pass

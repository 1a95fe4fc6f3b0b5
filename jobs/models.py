"""The database tables behind the job store (SQLAlchemy 2 declarative mapping): the jobs, the
ids of jobs that expired (:mod:`jobs.retention`) and the service's running totals
(:mod:`jobs.tallies`, for ``/metrics``).

Timestamps are stored as naive UTC (``timestamp without time zone``) so SQLite and PostgreSQL
compare them the same way; :mod:`jobs.store` turns them into aware UTC datetimes for callers.
Nothing outside :mod:`jobs` should use these ORM objects: the store hands out :class:`jobs.Job`
snapshots instead.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class JobRow(Base):
    __tablename__ = "posestudio_jobs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    stage: Mapped[str | None] = mapped_column(String(64))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    fps: Mapped[float | None] = mapped_column(Float)
    eta_s: Mapped[float | None] = mapped_column(Float)
    frames_done: Mapped[int] = mapped_column(Integer, default=0)
    frames_total: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Last sign of life from the run that holds the claim; a running job whose heartbeat is
    # older than the store's stale limit is an orphan (see JobStore.recover_orphans).
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    worker: Mapped[str | None] = mapped_column(String(255))
    # Random token of the run that currently owns the job; writes from a run that lost its
    # claim (it was declared dead and the job handed to another run) are ignored.
    claim: Mapped[str | None] = mapped_column(String(64))
    source_name: Mapped[str] = mapped_column(String(255))
    # What the job's input is: "video" (one video), "images" (photos), "multiview" (views + calibration).
    kind: Mapped[str] = mapped_column(String(16), default="video")
    source_meta: Mapped[dict] = mapped_column(JSON, default=dict)
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    outputs: Mapped[dict] = mapped_column(JSON, default=dict)
    timings: Mapped[dict] = mapped_column(JSON, default=dict)
    owner: Mapped[str | None] = mapped_column(String(128), index=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    # When the job last became queued, and when it was last sent to the broker: a queued job
    # whose message is lost is sent again (JobStore.unclaimed).
    queued_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_posestudio_jobs_created", "created_at"),)


class ExpiredJobRow(Base):
    """A job deleted by the retention sweep: only its id and when, so that its page can say
    that it expired instead of "not found". Nothing else of the job is kept."""

    __tablename__ = "posestudio_expired_jobs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expired_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class TallyRow(Base):
    """One running total (a counter, or one histogram bucket, sum or count), added to by every
    worker process and read by every web process: ``name`` is the metric's sample name with its
    labels, e.g. ``job_duration_seconds_bucket{state="succeeded",le="60"}``."""

    __tablename__ = "posestudio_tallies"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[float] = mapped_column(Float, default=0.0)

"""What the service keeps, and for how long: deleting jobs, expiring old ones, dropping uploads.

- A finished job (succeeded, failed or cancelled) is deleted whole, record, upload and outputs,
  ``Settings.retention_days`` after it finished (0 = never); only its id and the time are kept
  (``posestudio_expired_jobs``, for :data:`TOMBSTONE_DAYS`) so that its page can say it expired.
- A succeeded job's uploaded video is deleted as soon as the job succeeded, unless
  ``Settings.keep_uploads`` (the worker does it when the run ends, :func:`sweep` catches up on
  any it missed); failed and cancelled jobs keep theirs, so that they can be retried.
- Upload and output folders that belong to no job (left by a crash) go after a day.
- The pipeline's temp folders (``outputs/.<job id>.partial-*``) of a job no run is working on
  go at once (:func:`remove_stale_partials`): a run killed on its job's last attempt leaves one,
  and no later run of that job would remove it. The worker's orphan sweep does this too, right
  after it fails such a job.

:func:`sweep` does all of this in one pass; every worker runs it periodically
(``workers.housekeeping``). Times are UTC.
"""
from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import delete, func, select

from config import Settings
from jobs.models import ExpiredJobRow, JobRow
from jobs.paths import check_job_id, remove_job_files, upload_images_dir, upload_path, upload_views_dir
from jobs.store import Job, JobState, JobStore

#: How long the id of an expired job is remembered (its page says "expired", then "not found").
TOMBSTONE_DAYS = 365
#: Folders in uploads/ or outputs/ that belong to no job are removed once this old.
ORPHAN_AFTER_S = 24 * 3600
_FINISHED = (JobState.SUCCEEDED.value, JobState.FAILED.value, JobState.CANCELLED.value)


def _naive_utc(moment: datetime | None) -> datetime:
    moment = moment or datetime.now(timezone.utc)
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def expires_at(job: Job, retention_days: int) -> datetime | None:
    """When the sweep deletes ``job`` (aware UTC); None while it runs or when jobs are kept."""
    if not retention_days or job.finished_at is None:
        return None
    return job.finished_at + timedelta(days=retention_days)


def expired_at(store: JobStore, job_id: str) -> datetime | None:
    """When the job with this id expired (aware UTC), or None if it did not (or long ago)."""
    with store._sessions() as session:
        row = session.get(ExpiredJobRow, job_id)
        return None if row is None else row.expired_at.replace(tzinfo=timezone.utc)


def delete_job(store: JobStore, settings: Settings, job_id: str) -> None:
    """Delete a job now, whatever its state: a queued or running one is cancelled first (its
    worker notices within a second and discards what it wrote). Raises JobNotFound."""
    job = store.get(job_id)
    if not job.state.is_terminal:
        store.request_cancel(job_id)
    store.delete(job_id)
    remove_job_files(settings, job_id)


def remove_upload(settings: Settings, job_id: str) -> bool:
    """Delete the job's uploaded video (its folder); True if there was one."""
    folder = upload_path(settings, job_id).parent
    existed = folder.exists()
    shutil.rmtree(folder, ignore_errors=True)
    return existed


def upload_kept(settings: Settings, job_id: str) -> bool:
    """Whether the job's upload is still stored: its video, its photos (an image job) or its
    views (a multi-view job)."""
    photos, views = upload_images_dir(settings, job_id), upload_views_dir(settings, job_id)
    return upload_path(settings, job_id).is_file() or any(d.is_dir() and any(d.iterdir()) for d in (photos, views))


def retention_fields(job: Job, settings: Settings) -> dict:
    """What the API tells about a job's keeping: its options, whether its upload is still
    stored, and when it will be deleted (ISO 8601 UTC, or None)."""
    expiry = expires_at(job, settings.retention_days)
    return {"options": dict(job.options), "upload_kept": upload_kept(settings, job.id),
            "expires_at": expiry.isoformat() if expiry else None}


@dataclass
class SweepResult:
    """Ids of the jobs the pass expired, whose uploads it removed, and orphan folder names."""

    expired: list[str] = field(default_factory=list)
    uploads_removed: list[str] = field(default_factory=list)
    orphans_removed: list[str] = field(default_factory=list)


def sweep(store: JobStore, settings: Settings, *, now: datetime | None = None) -> SweepResult:
    """One pass (see the module docstring); ``now`` (default: the clock) decides what is old."""
    now = _naive_utc(now)
    result = SweepResult()
    if settings.retention_days:
        result.expired = _expire(store, settings, now - timedelta(days=settings.retention_days), now)
    with store._sessions.begin() as session:
        session.execute(delete(ExpiredJobRow).where(
            ExpiredJobRow.expired_at < now - timedelta(days=TOMBSTONE_DAYS)))
    folders = {"uploads": _job_folders(Path(settings.uploads_dir)),
               "outputs": _job_folders(Path(settings.outputs_dir))}
    states = _states(store, set(folders["uploads"]) | set(folders["outputs"]))
    if not settings.keep_uploads:
        for job_id in folders["uploads"]:
            if states.get(job_id) == JobState.SUCCEEDED.value and remove_upload(settings, job_id):
                result.uploads_removed.append(job_id)
    result.orphans_removed += [f"outputs/{name}" for name in remove_stale_partials(store, settings)]
    cutoff = time.time() - ORPHAN_AFTER_S
    for kind, found in folders.items():
        for job_id, path in found.items():
            if job_id not in states and _mtime(path) < cutoff:
                shutil.rmtree(path, ignore_errors=True)
                result.orphans_removed.append(f"{kind}/{path.name}")
    return result


def _expire(store: JobStore, settings: Settings, cutoff: datetime, now: datetime) -> list[str]:
    finished = func.coalesce(JobRow.finished_at, JobRow.created_at)
    query = select(JobRow.id).where(JobRow.state.in_(_FINISHED), finished < cutoff)
    with store._sessions() as session:
        candidates = list(session.scalars(query))
    expired = []
    for job_id in candidates:
        with store._sessions.begin() as session:  # still finished and old when deleted
            gone = session.execute(delete(JobRow).where(
                JobRow.id == job_id, JobRow.state.in_(_FINISHED), finished < cutoff)).rowcount
            if gone:
                session.merge(ExpiredJobRow(id=job_id, expired_at=now))
        if gone:
            remove_job_files(settings, job_id)
            expired.append(job_id)
    return expired


def remove_stale_partials(store: JobStore, settings: Settings) -> list[str]:
    """Remove the pipeline's temp folders (``.<job id>.partial-*`` in the outputs folder) of
    every job that is not running (finished, queued again, or gone): no run is writing them.
    A run starts only after its job is marked running, and names its folder anew, so a folder
    seen here before the look at the job's state is never a live run's. Returns their names."""
    partials: dict[str, list[Path]] = {}
    try:
        for path in Path(settings.outputs_dir).glob(".*.partial-*"):
            partials.setdefault(path.name[1:].rsplit(".partial-", 1)[0], []).append(path)
    except FileNotFoundError:
        return []
    if not partials:
        return []
    states = _states(store, set(partials))
    removed = []
    for job_id, paths in partials.items():
        if states.get(job_id) != JobState.RUNNING.value:
            for path in paths:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
    return sorted(removed)


def _job_folders(root: Path) -> dict[str, Path]:
    """``{job id: folder}`` for the job folders directly under ``root`` (not ``.incoming`` or
    the pipeline's ``.<id>.partial-*`` folders, which their owners clean up)."""
    found = {}
    try:
        entries = list(root.iterdir())
    except FileNotFoundError:
        return found
    for path in entries:
        try:
            check_job_id(path.name)
        except ValueError:
            continue
        if not path.name.startswith(".") and path.is_dir():
            found[path.name] = path
    return found


def _states(store: JobStore, job_ids: set[str]) -> dict[str, str]:
    states: dict[str, str] = {}
    ids = sorted(job_ids)
    with store._sessions() as session:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            states.update(session.execute(select(JobRow.id, JobRow.state).where(JobRow.id.in_(chunk))).all())
    return states


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return time.time()


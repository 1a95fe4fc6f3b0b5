"""jobs.retention: expiry by age, uploads of succeeded jobs, orphan folders, deleting a job."""
from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from config import Settings
from jobs import JobNotFound, JobState, output_dir, upload_path
from jobs.retention import (ORPHAN_AFTER_S, TOMBSTONE_DAYS, delete_job, expired_at, expires_at, sweep,
                            upload_kept)


def _settings(root: Path, **kw) -> Settings:
    return Settings(instance_dir=root / "instance", uploads_dir=root / "uploads",
                    outputs_dir=root / "outputs", secret_key="t", **kw)


def _job(store, settings, state, *, name="clip.mp4"):
    """A job in ``state`` with an upload and (when it succeeded) an output folder on disk."""
    job = store.create_job(source_name=name, options={}, owner=None, source_meta={})
    upload = upload_path(settings, job.id)
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"video")
    if state in ("running", "succeeded", "failed"):
        claim = store.mark_running(job.id, worker="w").claim
        if state == "succeeded":
            out = output_dir(settings, job.id)
            out.mkdir(parents=True)
            (out / "keypoints.csv").write_text("frame\n")
            store.mark_succeeded(job.id, outputs={"csv": "keypoints.csv"}, timings={}, claim=claim)
        elif state == "failed":
            store.mark_failed(job.id, error="broken", claim=claim)
    elif state == "cancelled":
        store.request_cancel(job.id)
    return store.get(job.id)


def test_finished_jobs_expire_whole_after_the_retention_days(db_store, tmp_path):
    settings = _settings(tmp_path, retention_days=30, keep_uploads=True)
    jobs = {state: _job(db_store, settings, state) for state in ("queued", "running", "succeeded", "failed", "cancelled")}
    done = jobs["succeeded"]
    assert expires_at(done, 30) == done.finished_at + timedelta(days=30)
    assert expires_at(jobs["running"], 30) is None and expires_at(done, 0) is None
    assert sweep(db_store, settings).expired == []  # nothing is old yet
    later = datetime.now(timezone.utc) + timedelta(days=30, minutes=1)
    result = sweep(db_store, settings, now=later)
    finished = {jobs[s].id for s in ("succeeded", "failed", "cancelled")}
    assert set(result.expired) == finished
    for job_id in finished:
        with pytest.raises(JobNotFound):
            db_store.get(job_id)
        assert not upload_path(settings, job_id).parent.exists() and not output_dir(settings, job_id).exists()
        assert expired_at(db_store, job_id) is not None
    for state in ("queued", "running"):  # still at work: never expired, whatever their age
        assert db_store.get(jobs[state].id).state == JobState(state)
        assert upload_path(settings, jobs[state].id).is_file()
        assert expired_at(db_store, jobs[state].id) is None
    assert sweep(db_store, settings, now=later).expired == []
    # The ids are remembered for a year, then forgotten too.
    sweep(db_store, settings, now=later + timedelta(days=TOMBSTONE_DAYS + 1))
    assert all(expired_at(db_store, job_id) is None for job_id in finished)


def test_no_expiry_with_zero_retention_days(db_store, tmp_path):
    settings = _settings(tmp_path, retention_days=0)
    job = _job(db_store, settings, "failed")
    result = sweep(db_store, settings, now=datetime.now(timezone.utc) + timedelta(days=3650))
    assert result.expired == [] and db_store.get(job.id).state is JobState.FAILED


def test_uploads_of_succeeded_jobs_go_unless_kept_and_others_stay_for_a_retry(db_store, tmp_path):
    settings = _settings(tmp_path)
    done, failed, cancelled = (_job(db_store, settings, s) for s in ("succeeded", "failed", "cancelled"))
    kept = sweep(db_store, settings.with_overrides(keep_uploads=True))
    assert kept.uploads_removed == [] and upload_kept(settings, done.id)
    result = sweep(db_store, settings)
    assert result.uploads_removed == [done.id] and not upload_kept(settings, done.id)
    assert output_dir(settings, done.id).is_dir()  # the results stay
    assert upload_kept(settings, failed.id) and upload_kept(settings, cancelled.id)


def test_folders_of_no_job_go_after_a_day(db_store, tmp_path):
    settings = _settings(tmp_path)
    old, new = "a" * 32, "b" * 32
    for root in (settings.uploads_dir, settings.outputs_dir):
        for job_id in (old, new):
            (Path(root) / job_id).mkdir(parents=True)
        stamp = time.time() - ORPHAN_AFTER_S - 60
        os.utime(Path(root) / old, (stamp, stamp))
    (Path(settings.uploads_dir) / ".incoming").mkdir()
    result = sweep(db_store, settings)
    assert sorted(result.orphans_removed) == [f"outputs/{old}", f"uploads/{old}"]
    assert (Path(settings.uploads_dir) / new).is_dir() and (Path(settings.outputs_dir) / new).is_dir()
    assert (Path(settings.uploads_dir) / ".incoming").is_dir()


def test_delete_job_cancels_a_running_one_and_removes_everything(db_store, tmp_path):
    settings = _settings(tmp_path)
    running = _job(db_store, settings, "running")
    delete_job(db_store, settings, running.id)
    with pytest.raises(JobNotFound):
        db_store.get(running.id)
    assert not upload_path(settings, running.id).parent.exists()
    assert expired_at(db_store, running.id) is None  # deleted, not expired: a 404 afterwards
    with pytest.raises(JobNotFound):
        delete_job(db_store, settings, running.id)

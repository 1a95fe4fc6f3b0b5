"""JobStore on a real SQLite file and a real PostgreSQL schema (created and dropped per run)."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from jobs import JobNotFound, JobState, JobStateError, JobStore
from jobs.store import _now

from pg_schemas import own_schema, schema_url


@pytest.fixture(scope="module")
def pg_schema():
    with own_schema("jobs_test") as schema:
        yield schema_url(schema)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'instance' / 'jobs.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_schema")
    s = JobStore(url, stale_after_s=60)
    yield s
    if request.param == "postgres":
        with s._engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM posestudio_jobs"))
    s.close()


def _new(store: JobStore, **kw):
    args = dict(source_name="clip.mp4", options={"net_height": 368}, owner="browser-1",
                source_meta={"width": 426, "height": 240})
    args.update(kw)
    return store.create_job(**args)


def test_create_get_list_newest_first_and_by_owner(store):
    a = _new(store)
    b = _new(store, owner="browser-2")
    c = _new(store)
    assert len(a.id) >= 20 and a.id != b.id
    got = store.get(a.id)
    assert got.state is JobState.QUEUED and got.attempts == 1 and got.progress == 0.0
    assert got.options == {"net_height": 368} and got.source_meta["width"] == 426
    assert got.created_at.tzinfo is not None
    assert [j.id for j in store.list_jobs()] == [c.id, b.id, a.id]
    assert [j.id for j in store.list_jobs(owner="browser-1")] == [c.id, a.id]
    assert len(store.list_jobs(limit=1)) == 1
    with pytest.raises(JobNotFound, match="no job"):
        store.get("nope")


def test_lifecycle_progress_success(store):
    job = _new(store)
    running = store.mark_running(job.id, worker="celery@a")
    assert running.state is JobState.RUNNING and running.claim and running.started_at
    assert store.update_progress(job.id, stage="pose", progress=1.7, fps=9.5, eta_s=3.0,
                                 frames_done=5, frames_total=10, claim=running.claim)
    mid = store.get(job.id)
    assert (mid.stage, mid.progress, mid.fps, mid.frames_done) == ("pose", 1.0, 9.5, 5)
    assert store.mark_succeeded(job.id, outputs={"video": "annotated.mp4"},
                                timings={"total_s": 2.5}, claim=running.claim)
    done = store.get(job.id)
    assert done.state is JobState.SUCCEEDED and done.outputs == {"video": "annotated.mp4"}
    assert done.finished_at >= done.started_at and done.is_finished


def test_only_one_claim_wins_even_when_racing(store):
    job = _new(store)
    winners, errors = [], []

    def claim(name):
        try:
            winners.append(store.mark_running(job.id, worker=name).worker)
        except JobStateError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1 and len(errors) == 5
    assert "not queued" in errors[0]


def test_writes_with_a_lost_claim_are_ignored(store):
    job = _new(store)
    first = store.mark_running(job.id, worker="celery@a")
    assert store.recover_orphans(dead_workers=["celery@a"]) == [job.id]
    second = store.mark_running(job.id, worker="celery@b")
    assert second.attempts == 2
    assert not store.heartbeat(job.id, claim=first.claim)
    assert not store.mark_succeeded(job.id, outputs={}, timings={}, claim=first.claim)
    assert store.get(job.id).state is JobState.RUNNING
    assert store.heartbeat(job.id, claim=second.claim)


def test_an_orphan_being_cancelled_is_cancelled_not_requeued(store):
    job = _new(store)
    store.mark_running(job.id, worker="celery@a")
    store.request_cancel(job.id)
    assert store.recover_orphans(dead_workers=["celery@a"]) == []
    assert store.get(job.id).state is JobState.CANCELLED


def test_cancel_queued_and_running(store):
    queued = _new(store)
    assert store.request_cancel(queued.id).state is JobState.CANCELLED
    running = _new(store)
    claim = store.mark_running(running.id, worker="w").claim
    assert not store.is_cancel_requested(running.id)
    flagged = store.request_cancel(running.id)
    assert flagged.state is JobState.RUNNING and flagged.cancel_requested
    assert store.is_cancel_requested(running.id)
    assert store.mark_cancelled(running.id, claim=claim)
    assert store.get(running.id).state is JobState.CANCELLED
    with pytest.raises(JobStateError):
        store.mark_running(queued.id, worker="w")


def test_requeue_failed_clears_and_counts(store):
    job = _new(store)
    claim = store.mark_running(job.id, worker="w").claim
    assert store.mark_failed(job.id, error="not a video", claim=claim)
    assert store.get(job.id).error == "not a video"
    again = store.requeue(job.id)
    assert again.state is JobState.QUEUED and again.attempts == 2 and again.error is None
    with pytest.raises(JobStateError, match="only failed or cancelled"):
        store.requeue(job.id)


def _stale(store, job_id: str) -> None:
    with store._engine.begin() as conn:
        conn.execute(sa.text("UPDATE posestudio_jobs SET heartbeat_at = :t WHERE id = :i"),
                     {"t": _now() - timedelta(seconds=120), "i": job_id})


def test_orphans_stale_heartbeat_requeued_then_failed(store):
    job = _new(store)
    for attempt in (1, 2):
        store.mark_running(job.id, worker="w")
        _stale(store, job.id)  # the run died 2 minutes ago
        assert store.recover_orphans(max_attempts=3) == [job.id]
        assert store.get(job.id).attempts == attempt + 1
    fresh = store.mark_running(job.id, worker="w")
    assert store.recover_orphans() == []  # fresh heartbeat: alive
    assert store.recover_orphans(worker_hostnames_alive=["other"], max_attempts=3) == []
    failed = store.get(job.id)
    assert failed.state is JobState.FAILED and "stopped unexpectedly" in failed.error
    assert "3 times" in failed.error and fresh.attempts == 3


@pytest.mark.postgres
def test_plain_postgresql_urls_use_psycopg3(pg_schema):
    plain = pg_schema.replace("postgresql+psycopg://", "postgresql://")
    store = JobStore(plain)
    try:
        assert store._engine.dialect.driver == "psycopg"
        assert store.get(_new(store).id).state is JobState.QUEUED
    finally:
        with store._engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM posestudio_jobs"))
        store.close()


def test_delete(store):
    job = _new(store)
    store.delete(job.id)
    with pytest.raises(JobNotFound):
        store.get(job.id)
    with pytest.raises(JobNotFound):
        store.delete(job.id)


def test_is_stalled_only_for_running_jobs_with_an_old_heartbeat(store):
    job = _new(store)
    assert not job.is_stalled(60)  # queued: no heartbeat expected
    running = store.mark_running(job.id, worker="w")
    now = running.heartbeat_at
    assert not running.is_stalled(60, now=now + timedelta(seconds=59))
    assert running.is_stalled(60, now=now + timedelta(seconds=61))
    store.mark_failed(job.id, error="x", claim=running.claim)
    assert not store.get(job.id).is_stalled(60, now=now + timedelta(hours=1))  # finished


def test_cancelling_a_stalled_job_cancels_it_at_once(store):
    """No worker is there to see the cancel flag, so waiting for one would leave 'Cancelling...'."""
    alive, stalled = _new(store), _new(store)
    store.mark_running(alive.id, worker="w")
    claim = store.mark_running(stalled.id, worker="gone").claim
    _stale(store, stalled.id)
    flagged = store.request_cancel(alive.id)
    assert flagged.state is JobState.RUNNING and flagged.cancel_requested
    cancelled = store.request_cancel(stalled.id)
    assert cancelled.state is JobState.CANCELLED and cancelled.claim is None
    assert not store.heartbeat(stalled.id, claim=claim)  # a run that was only slow stops


def test_a_heartbeat_landing_after_the_stall_check_keeps_the_job(store, monkeypatch):
    """The stale-heartbeat test is part of the UPDATE, so a worker that reports in between the
    read and the write keeps its job: neither a cancel nor a sweep takes it from a live run."""
    job = _new(store)
    claim = store.mark_running(job.id, worker="slow").claim
    real_get, real_list = store.get, store.list_jobs

    def get_then_heartbeat(job_id):
        snapshot = real_get(job_id)
        assert store.heartbeat(job_id, claim=claim)  # the worker's beat lands right after the read
        return snapshot

    def list_then_heartbeat(**kwargs):
        snapshots = real_list(**kwargs)
        assert store.heartbeat(job.id, claim=claim)
        return snapshots

    _stale(store, job.id)
    monkeypatch.setattr(store, "get", get_then_heartbeat)
    store.request_cancel(job.id)
    monkeypatch.setattr(store, "get", real_get)
    kept = store.get(job.id)
    assert kept.state is JobState.RUNNING and kept.cancel_requested and kept.claim == claim

    store._guarded(job.id, None, dict(cancel_requested=False))
    _stale(store, job.id)
    monkeypatch.setattr(store, "list_jobs", list_then_heartbeat)
    assert store.recover_orphans() == []
    monkeypatch.setattr(store, "list_jobs", real_list)
    assert store.get(job.id).state is JobState.RUNNING
    assert store.mark_succeeded(job.id, outputs={}, timings={}, claim=claim)


def _sent_ago(store, job_id: str, *, queued_s: float, sent_s: float) -> None:
    with store._engine.begin() as conn:
        conn.execute(sa.text("UPDATE posestudio_jobs SET queued_at = :q, sent_at = :s WHERE id = :i"),
                     {"q": _now() - timedelta(seconds=queued_s), "s": _now() - timedelta(seconds=sent_s),
                      "i": job_id})


def test_a_job_waiting_in_a_backlog_is_never_sent_again(store):
    """86 jobs sent long ago, none claimed, the broker holding messages: none is lost, none is
    sent again (the old schedule sent 71, 58 and 34 of them again at each sweep)."""
    backlog = [_new(store) for _ in range(86)]
    for n, job in enumerate(backlog):
        _sent_ago(store, job.id, queued_s=3600 - n, sent_s=3600 - n)
    assert store.unclaimed(resend_after_s=60, broker_empty=False) == []


def test_a_job_is_lost_when_a_later_one_was_claimed_or_the_broker_is_empty(store):
    never_sent, lost, behind, just_sent, later = (_new(store) for _ in range(5))
    _sent_ago(store, lost.id, queued_s=300, sent_s=300)
    _sent_ago(store, behind.id, queued_s=200, sent_s=200)
    _sent_ago(store, just_sent.id, queued_s=10, sent_s=10)
    _sent_ago(store, later.id, queued_s=5, sent_s=5)
    assert store.unclaimed(resend_after_s=60, broker_empty=False) == [never_sent.id]
    _sent_ago(store, later.id, queued_s=250, sent_s=250)  # sent after lost, before behind
    store.mark_running(later.id, worker="w")  # FIFO: lost's message should have come first
    assert store.unclaimed(resend_after_s=60, broker_empty=False) == [never_sent.id, lost.id]
    # The queue is empty: every job sent a while ago (not the one sent 10 s ago) is lost.
    assert store.unclaimed(resend_after_s=60, broker_empty=True) == [never_sent.id, lost.id, behind.id]


def test_send_times_within_the_clock_margin_prove_nothing(store):
    first, second = _new(store), _new(store)
    _sent_ago(store, first.id, queued_s=120, sent_s=120)
    _sent_ago(store, second.id, queued_s=118, sent_s=118)  # 2 s later: within hosts' clock skew
    store.mark_running(second.id, worker="w")
    assert store.unclaimed(resend_after_s=60, broker_empty=False) == []


def test_only_queued_jobs_are_sent_again_and_a_requeued_job_starts_afresh(store):
    job = _new(store)
    store.mark_running(job.id, worker="w")
    assert not store.mark_sent(job.id)
    assert store.unclaimed(resend_after_s=0, broker_empty=True) == []
    _stale(store, job.id)
    assert store.recover_orphans() == [job.id]
    assert store.unclaimed(resend_after_s=60, broker_empty=False) == [job.id]  # queued again, not sent yet


def test_a_live_run_named_alive_is_never_an_orphan(store):
    job = _new(store)
    store.mark_running(job.id, worker="w")
    _stale(store, job.id)
    assert store.stale_running() == [job.id]
    assert store.recover_orphans(alive={job.id}) == []
    assert store.get(job.id).state is JobState.RUNNING


def test_a_database_made_before_the_send_columns_gets_them(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # the table as the first release created it
        conn.execute(sa.text(
            "CREATE TABLE posestudio_jobs (id VARCHAR(64) PRIMARY KEY, state VARCHAR(16), stage VARCHAR(64), "
            "progress FLOAT, fps FLOAT, eta_s FLOAT, frames_done INTEGER, frames_total INTEGER, error TEXT, "
            "created_at DATETIME, started_at DATETIME, finished_at DATETIME, heartbeat_at DATETIME, "
            "worker VARCHAR(255), claim VARCHAR(64), source_name VARCHAR(255), source_meta JSON, options JSON, "
            "outputs JSON, timings JSON, owner VARCHAR(128), cancel_requested BOOLEAN, attempts INTEGER)"))
        conn.execute(sa.text("INSERT INTO posestudio_jobs (id, state, created_at, source_name, attempts) "
                             "VALUES ('old', 'queued', :t, 'a.mp4', 1)"), {"t": _now()})
    engine.dispose()
    store = JobStore(url)
    try:
        assert store.unclaimed(resend_after_s=60, broker_empty=True) == ["old"]
        assert store.mark_sent("old") and store.unclaimed(resend_after_s=60, broker_empty=True) == []
    finally:
        store.close()


def test_a_nul_byte_in_a_file_name_or_an_error_is_stored_as_a_replacement_character(store):
    """PostgreSQL's text cannot hold NUL (psycopg.DataError, a 500 for an upload named so); both
    databases store U+FFFD in its place."""
    job = _new(store, source_name="a\x00b.mp4")
    assert store.get(job.id).source_name == "a\ufffdb.mp4"
    assert store.mark_failed(job.id, error="cannot read 'a\x00b.mp4'")
    assert store.get(job.id).error == "cannot read 'a\ufffdb.mp4'"

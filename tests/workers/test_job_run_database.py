"""A run's glue to the store (``workers.job_run``) while the job database is away: PostgreSQL
behind a TCP proxy that the test stops and starts (the real server stays up). No model, no
worker: the seconds-fast half of tests/workers/test_faults_database.py."""
from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from jobs import JobStore
from workers.job_run import JobRun, until_recorded

from pg_schemas import own_schema, schema_url
from tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres


@pytest.fixture
def proxied_store():
    with own_schema("job_run_db") as schema:
        proxy = TcpProxy(5432)
        store = JobStore(schema_url(schema, port=proxy.port))
        yield store, proxy
        proxy.start()
        store.close()
        proxy.stop()


def _progress(done: int) -> SimpleNamespace:
    return SimpleNamespace(stage="analysing", frames_done=done, frames_total=100, fps=10.0, eta_s=5.0,
                           fraction=done / 100)


def test_progress_and_the_cancel_check_ride_out_an_outage(proxied_store, caplog):
    store, proxy = proxied_store
    job = store.create_job(source_name="a.mp4", options={}, owner=None, source_meta={})
    claim = store.mark_running(job.id, worker="w").claim
    run = JobRun(store, job.id, claim, progress_interval_s=0, cancel_check_interval_s=0)
    run.on_progress(_progress(10))
    assert run.should_cancel() is False
    proxy.stop()
    run.on_progress(_progress(20))  # skipped, not raised
    run.on_progress(_progress(30))
    assert run.should_cancel() is False and run.claim_lost is False  # the last answer stands
    assert caplog.text.count("the job database does not answer") == 1  # said once per outage
    proxy.start()
    run.on_progress(_progress(40))
    assert store.get(job.id).frames_done == 40 and not run.claim_lost
    assert "answers again" in caplog.text


def test_the_last_write_waits_for_the_database_but_not_for_ever(proxied_store):
    store, proxy = proxied_store
    job = store.create_job(source_name="a.mp4", options={}, owner=None, source_meta={})
    claim = store.mark_running(job.id, worker="w").claim
    proxy.stop()
    threading.Timer(1.5, proxy.start).start()
    assert until_recorded(lambda: store.mark_failed(job.id, error="e", claim=claim), what="t", patience_s=30)
    assert store.get(job.id).error == "e"
    proxy.stop()
    with pytest.raises(sa.exc.OperationalError):  # patience spent: the database's own error
        until_recorded(lambda: store.get(job.id), what="t", patience_s=1)
    with pytest.raises(ZeroDivisionError):  # anything else: at once
        until_recorded(lambda: 1 / 0, what="t", patience_s=30)

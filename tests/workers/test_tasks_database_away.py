"""The job database is away just as a task starts (looking up or claiming its job) or as the
after-run hook counts the run: the worker logs one line, no traceback; the job stays queued and
its message goes back to the queue, so it runs once the database answers.

At the task's function boundary (the task called in this process, as Celery's pool would):
PostgreSQL behind a TCP proxy that the test stops (the real server stays up); the embedded
queue's real folder holds the message sent again. No model is loaded: the claim's fault is
caused where the model would be loaded."""
from __future__ import annotations

import logging

import pytest

from config import Settings
from jobs import JobState, JobStore
from workers import housekeeping, tasks
from workers.celery_app import create_celery, filesystem_broker_folders

from pg_schemas import own_schema, schema_url
from tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres


@pytest.fixture
def env(tmp_path, monkeypatch):
    with own_schema("task_db_away") as schema:
        proxy = TcpProxy(5432)
        settings = Settings(instance_dir=tmp_path / "instance", uploads_dir=tmp_path / "uploads",
                            outputs_dir=tmp_path / "outputs", secret_key="t",
                            database_url=schema_url(schema, port=proxy.port))
        app = create_celery(settings)
        direct = JobStore(schema_url(schema))  # the test's own view, never through the proxy
        monkeypatch.setattr(tasks, "HAND_BACK_DELAY_S", 0.0)
        yield settings, app, direct, proxy
        proxy.start()
        tasks.store_for(settings).close()
        direct.close()
        proxy.stop()


def _messages(settings: Settings) -> int:
    return len(list(filesystem_broker_folders(settings)["queue"].glob("*")))


def _one_line_said(caplog, text: str) -> None:
    said = [r for r in caplog.records if text in r.getMessage()]
    assert len(said) == 1, [r.getMessage() for r in caplog.records]
    assert said[0].levelno == logging.WARNING and said[0].exc_info is None  # no traceback
    assert "\n" not in said[0].getMessage()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def _stays_queued(direct: JobStore, job) -> None:
    back = direct.get(job.id)
    assert back.state is JobState.QUEUED and back.attempts == job.attempts and back.error is None


def test_the_database_away_at_the_lookup_leaves_the_job_queued_and_sends_it_again(env, caplog):
    settings, app, direct, proxy = env
    job = direct.create_job(source_name="a.mp4", options={}, owner=None, source_meta={})
    before = _messages(settings)
    proxy.stop()
    with caplog.at_level(logging.INFO, logger="workers"):
        assert app.tasks[tasks.TASK_NAME](job.id) == "database away"
    _one_line_said(caplog, "the job database does not answer")
    _stays_queued(direct, job)
    assert _messages(settings) == before + 1  # sent again, to run once the database answers


def test_the_database_away_at_the_claim_leaves_the_job_queued_and_sends_it_again(env, caplog, monkeypatch):
    settings, app, direct, proxy = env
    job = direct.create_job(source_name="a.mp4", options={}, owner=None, source_meta={})
    before = _messages(settings)

    def database_goes_as_the_model_loads(settings, options):  # the claim comes next
        proxy.stop()
        return object()
    monkeypatch.setattr(tasks, "backend_for", database_goes_as_the_model_loads)
    with caplog.at_level(logging.INFO, logger="workers"):
        assert app.tasks[tasks.TASK_NAME](job.id) == "database away"
    _one_line_said(caplog, "the job database does not answer")
    _stays_queued(direct, job)
    assert _messages(settings) == before + 1
    proxy.start()  # back: the message sent again runs it (here, the claim that failed now succeeds)
    assert tasks.store_for(settings).mark_running(job.id, worker="w").state is JobState.RUNNING


def test_the_after_run_hook_says_one_line_when_the_database_is_away(env, caplog):
    settings, app, direct, proxy = env
    job = direct.create_job(source_name="a.mp4", options={}, owner=None, source_meta={})
    proxy.stop()
    with caplog.at_level(logging.INFO, logger="workers"):
        housekeeping._after_run(sender=app.tasks[tasks.TASK_NAME], args=[job.id], retval="succeeded")
    _one_line_said(caplog, "the job database does not answer")

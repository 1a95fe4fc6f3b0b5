"""The job database goes away while a real worker runs a job (PostgreSQL behind a TCP proxy that
the test stops and restarts; the real server stays up for everyone else).

Short outages (the database restarted, a failover) must cost a running job nothing: its run
goes on, progress resumes once the database is back, and the job finishes in its first attempt
(before, each outage aborted the run, and the third failed the job with the false "the worker
stopped unexpectedly (it was killed or lost power) 3 times").
JOB_STALE_AFTER_S is 5 here (60 by default) so that a run that lost its job would be noticed
within the test's seconds."""
from __future__ import annotations

import time

import pytest

from config import Settings
from jobs import JobState, output_dir
from videoio import probe

from celery_worker_process import Queue, WorkerProcess, queue_env
from pg_schemas import own_schema, schema_url
from tcp_proxy import TcpProxy

pytestmark = [pytest.mark.model, pytest.mark.postgres]


@pytest.fixture(scope="module")
def pg_schema():
    with own_schema("faults_db") as schema:
        yield schema


@pytest.fixture(scope="module")
def db_proxy():
    proxy = TcpProxy(5432)
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def queue(tmp_path_factory, videos_dir, model_path, pg_schema, db_proxy):
    root = tmp_path_factory.mktemp("faults-db")
    env = queue_env(root, model_path, JOB_STALE_AFTER_S="5", DATABASE_URL=schema_url(pg_schema, port=db_proxy.port))
    worker = WorkerProcess(env, name="h18b-faults-db", concurrency=1, log_path=root / "worker.log")
    # The test's own view of the jobs goes straight to the server, never through the proxy.
    direct = Settings.from_env({**env, "DATABASE_URL": schema_url(pg_schema)})
    q = Queue(direct, env, worker.start(), videos_dir)
    yield q
    db_proxy.start()
    q.worker.stop()
    q.store.close()


def test_three_short_database_outages_cost_a_running_job_nothing(queue, db_proxy):
    job = queue.submit({"net_height": 128, "end_s": 7})  # 210 frames: about 15 s here
    queue.wait(job.id, lambda j: j.state is JobState.RUNNING and j.frames_done > 0, timeout_s=120)
    before = []  # the job as each outage begins
    for _ in range(3):
        before.append(queue.store.get(job.id))
        with db_proxy.down(2.0):
            pass
        time.sleep(1.0)  # the database is back: progress moves again
    done = queue.wait_finished(job.id)
    assert done.state is JobState.SUCCEEDED, (done.error, queue.worker.log()[-3000:])
    assert done.attempts == 1 and done.frames_done == 210
    # The first outage always hits the run (a fast machine may finish it before the third).
    assert before[0].state is JobState.RUNNING and before[0].frames_done < 210
    assert probe(output_dir(queue.settings, job.id) / "annotated.mp4").frame_count == 210
    assert queue.leftovers(job.id) == []
    log = queue.worker.log()
    assert "the run goes on" in log and "unexpected error" not in log  # it saw the outage, and said so

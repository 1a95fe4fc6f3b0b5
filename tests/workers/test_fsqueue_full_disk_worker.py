"""A real worker on the embedded queue whose instance disk fills up (issue 18, finding 1): its
orphan sweep fails while the disk is full, and works again by itself once space is freed; the
orphaned job does not stay "running" for ever, and the admin's broker view sees the worker
again. Before, the full disk left a routing table at 0 bytes and every broadcast failed for
good. A real Celery worker, a real (small) tmpfs."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from config import Settings
from jobs import JobState, JobStore
from web.broker_view import ask_broker

from celery_worker_process import WorkerProcess, queue_env
from tmpfs import fill, small_disk


def _wait(predicate, timeout_s: float, what: str, log) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"{what}:\n{log()[-3000:]}"
        time.sleep(0.2)


def test_the_orphan_sweep_fails_on_a_full_disk_and_recovers_when_it_is_freed(tmp_path, model_path) -> None:
    with small_disk(tmp_path / "instance", size="1m") as instance:
        env = queue_env(tmp_path, model_path, JOB_STALE_AFTER_S="2",
                        DATABASE_URL=f"sqlite:///{tmp_path / 'jobs.sqlite3'}")  # only the queue is on the small disk
        settings = Settings.from_env(env)
        store = JobStore(settings.effective_database_url)
        worker = WorkerProcess(env, name="full-disk", concurrency=1, log_path=tmp_path / "worker.log").start()
        try:
            filler = fill(instance)
            # A job whose worker died: running, its heartbeat long stale. The sweeper must ask the
            # live workers over the broker before it may requeue it, and cannot: the disk is full.
            job = store.create_job(source_name="gone.mp4", options={}, owner=None, source_meta={})
            store.mark_running(job.id, worker="dead@elsewhere")
            with store._engine.begin() as conn:
                conn.execute(sa.text("UPDATE posestudio_jobs SET heartbeat_at = :t WHERE id = :i"),
                             {"t": datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=10),
                              "i": job.id})
            _wait(lambda: worker.log().count("orphan sweep failed") >= 2, 30, "no failed sweep", worker.log)
            assert store.get(job.id).state is JobState.RUNNING
            assert not ask_broker(settings).reachable

            filler.unlink()
            # The next sweeps work: the job is requeued, sent, and taken by the worker (its upload
            # is gone, so that run fails, saying so): it no longer claims to be running.
            _wait(lambda: store.get(job.id).state is not JobState.RUNNING or store.get(job.id).attempts > 1,
                  30, "the orphan was never requeued", worker.log)
            _wait(lambda: store.get(job.id).is_finished, 60, "the requeued job never ran", worker.log)
            final = store.get(job.id)
            assert final.attempts == 2 and final.state is JobState.FAILED and "not found" in final.error, final
            # The admin's view sees the worker again. (Its first answer to posestudio_status can
            # miss the 1 s broadcast window: the worker looks up its device description then.)
            _wait(lambda: [w.name for w in ask_broker(settings).workers] == [worker.node], 15,
                  "the admin's broadcast is never answered", worker.log)
            assert "JSONDecodeError" not in worker.log()
        finally:
            worker.stop()
            store.close()

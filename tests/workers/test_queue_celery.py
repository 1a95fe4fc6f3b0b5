"""The job queue end to end: a real ``celery worker`` process (prefork pool), the real pipeline
and model on a real clip, against the real Redis on 127.0.0.1:6379 and against the embedded
filesystem broker. One worker per broker is shared by the tests of that broker (start-up and
model loading are slow); the crash test kills it and starts its successor."""
from __future__ import annotations

import time

import pytest
import redis

from config import Settings
from jobs import JobState, output_dir
from videoio import probe
from workers import monitor
from workers.tasks import enqueue_job

from celery_worker_process import Queue, WorkerProcess, queue_env

pytestmark = pytest.mark.model
REDIS_URL = "redis://127.0.0.1:6379/11"  # a database of its own; emptied after the tests
FAST = {"net_height": 184, "screenshot_interval_s": 0.2}


@pytest.fixture(scope="module", params=["filesystem", pytest.param("redis", marks=pytest.mark.redis)])
def queue(request, tmp_path_factory, videos_dir, model_path):
    broker = request.param
    root = tmp_path_factory.mktemp(f"queue-{broker}")
    # Recovery after the crash test comes from the stale heartbeat: 10 s keeps the test short.
    env = queue_env(root, model_path, JOB_STALE_AFTER_S="10")
    if broker == "redis":
        client = redis.Redis.from_url(REDIS_URL)
        try:
            client.ping()
        except redis.ConnectionError as exc:
            pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
        client.flushdb()
        env["REDIS_URL"] = REDIS_URL
    settings = Settings.from_env(env)
    worker = WorkerProcess(env, name=f"a1test-{broker}", concurrency=2, log_path=root / "worker.log")
    q = Queue(settings, env, worker.start(), videos_dir)
    yield q
    q.worker.stop()
    q.store.close()
    if broker == "redis":
        client.flushdb()  # only database 11, which these tests own


def test_a_job_goes_through(queue):
    job = queue.submit({**FAST, "end_s": 0.5})  # 15 frames
    seen = queue.wait(job.id, lambda j: j.state is not JobState.QUEUED)
    done = queue.wait_finished(job.id)
    assert done.state is JobState.SUCCEEDED, done.error
    assert seen.state in (JobState.RUNNING, JobState.SUCCEEDED)
    assert done.worker.startswith(queue.worker.name) and done.attempts == 1
    assert (done.progress, done.frames_done, done.frames_total) == (1.0, 15, 15)
    assert done.timings["frames_processed"] == 15 and done.timings["elapsed_s"] > 0
    folder = output_dir(queue.settings, job.id)
    for key in ("video", "keypoints_json", "csv", "openpose_zip", "mot", "poster"):
        assert (folder / done.outputs[key]).is_file(), key
    assert done.outputs["screenshots"] and all((folder / s).is_file() for s in done.outputs["screenshots"])
    info = probe(folder / done.outputs["video"])
    assert (info.width, info.height, info.codec) == (426, 240, "h264") and info.frame_count == 15
    assert queue.leftovers(job.id) == []


def test_two_jobs_at_once_and_a_duplicate_delivery(queue):
    first = queue.submit({**FAST, "end_s": 1.5})
    second = queue.submit({**FAST, "end_s": 1.5})
    for job in (first, second):  # two pool processes: both start without waiting for the other
        queue.wait(job.id, lambda j: j.started_at is not None)
    enqueue_job(first.id, settings=queue.settings)  # delivered twice: must run once
    a, b = queue.wait_finished(first.id), queue.wait_finished(second.id)
    assert a.state is b.state is JobState.SUCCEEDED, (a.error, b.error)
    assert a.started_at < b.finished_at and b.started_at < a.finished_at, "ran one after the other"
    assert a.attempts == 1 and a.frames_done == 45
    deadline = time.monotonic() + 15  # the duplicate message is handled: it changes nothing
    while not any(f"job {first.id}: {what}" in queue.worker.log() for what in ("already", "not started")):
        assert time.monotonic() < deadline, queue.worker.log()[-3000:]
        time.sleep(0.2)
    again = queue.store.get(first.id)
    assert (again.state, again.finished_at, again.attempts) == (JobState.SUCCEEDED, a.finished_at, 1)
    for job in (a, b):
        assert probe(output_dir(queue.settings, job.id) / "annotated.mp4").frame_count == 45
        assert queue.leftovers(job.id) == []


def test_bad_input_fails_monitor_sees_the_job_and_cancel_stops_it(queue, tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 100)
    bad = queue.submit(FAST, source=text)
    long = queue.submit(FAST)  # the whole clip, 300 frames: still running when cancelled
    failed = queue.wait_finished(bad.id)
    assert failed.state is JobState.FAILED and "Traceback" not in failed.error
    assert "video" in failed.error.lower()
    queue.wait(long.id, lambda j: j.state is JobState.RUNNING and j.frames_done > 0)
    # The admin page's view, over the broker (a generous timeout: the machine may be busy).
    workers = monitor.list_workers(queue.settings, timeout_s=2.0)
    assert [w.name for w in workers] == [queue.worker.node]
    assert workers[0].active_jobs == (long.id,)
    assert monitor.queue_length(queue.settings) == 0
    queue.store.request_cancel(long.id)
    cancelled = queue.wait_finished(long.id, timeout_s=60)
    assert cancelled.state is JobState.CANCELLED and cancelled.frames_done < 300
    assert not output_dir(queue.settings, long.id).exists() and queue.leftovers(long.id) == []


def test_worker_killed_mid_job_then_restarted_finishes_it(queue):
    job = queue.submit({**FAST, "end_s": 2.0})  # 60 frames
    running = queue.wait(job.id, lambda j: j.state is JobState.RUNNING and j.frames_done > 0)
    queue.worker.kill()
    time.sleep(0.5)
    after_kill = queue.store.get(job.id)
    assert after_kill.state is JobState.RUNNING and after_kill.frames_done < 60, "killed too late"
    assert not output_dir(queue.settings, job.id).exists()  # never a half-written output folder
    queue.worker.start()  # a new node name: its sweeper finds the predecessor's stale heartbeat
    done = queue.wait_finished(job.id)
    assert done.state is JobState.SUCCEEDED, done.error
    assert done.attempts == running.attempts + 1 == 2 and done.frames_done == 60
    assert probe(output_dir(queue.settings, job.id) / "annotated.mp4").frame_count == 60
    assert queue.leftovers(job.id) == []  # the killed run's partial folder was cleaned up

"""The pool process running a job is SIGKILLed (the kernel's OOM killer, say) while the worker's
main process lives on: the job must not stay "running". The broker redelivers the message
(reject_on_worker_lost), that delivery sees a claimed job and leaves it; the worker's sweeper
finds the stale heartbeat and requeues the job, and the worker finishes it.
JOB_STALE_AFTER_S is 5 here (60 by default) so the test takes seconds."""
from __future__ import annotations

import os
import signal
import time

import pytest

from config import Settings
from jobs import JobState, output_dir
from videoio import probe

from celery_worker_process import Queue, WorkerProcess, pool_children, queue_env

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def queue(tmp_path_factory, videos_dir, model_path):
    root = tmp_path_factory.mktemp("queue-recovery")
    env = queue_env(root, model_path, JOB_STALE_AFTER_S="5")
    worker = WorkerProcess(env, name="a1test-recovery", concurrency=1, log_path=root / "worker.log")
    q = Queue(Settings.from_env(env), env, worker.start(), videos_dir)
    yield q
    q.worker.stop()
    q.store.close()


def test_pool_process_killed_job_is_requeued_by_the_sweeper_and_finished(queue):
    job = queue.submit({"net_height": 184, "end_s": 2.0})  # 60 frames
    running = queue.wait(job.id, lambda j: j.state is JobState.RUNNING and j.frames_done > 0)
    (child,) = pool_children(queue.worker.proc.pid)
    os.kill(child, signal.SIGKILL)
    assert queue.worker.proc.poll() is None  # the worker itself lives on
    requeued = queue.wait(job.id, lambda j: j.attempts >= 2, timeout_s=60)
    assert requeued.state in (JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED)
    done = queue.wait_finished(job.id)
    assert done.state is JobState.SUCCEEDED, done.error
    # 2, or 3 if a loaded machine let a heartbeat lapse: never stuck, one complete output.
    assert running.attempts == 1 and done.attempts >= 2 and done.frames_done == 60
    assert probe(output_dir(queue.settings, job.id) / "annotated.mp4").frame_count == 60
    assert queue.leftovers(job.id) == []
    assert "requeued" in queue.worker.log()


def test_a_run_whose_heartbeat_lapses_is_not_declared_dead_while_its_worker_runs_it(queue):
    """A run that stops beating for longer than the stale limit (here: its process is frozen with
    SIGSTOP, as a starved process on a busy machine would be) keeps its job while the worker
    says it is running it, and finishes it in the same attempt."""
    job = queue.submit({"net_height": 184, "end_s": 1.0})  # 30 frames
    queue.wait(job.id, lambda j: j.state is JobState.RUNNING and j.frames_done > 0)
    (child,) = pool_children(queue.worker.proc.pid)
    os.kill(child, signal.SIGSTOP)
    try:
        stale = queue.wait(job.id, lambda j: j.is_stalled(5.0), timeout_s=60)
        time.sleep(8)  # several sweeps (every 2.5 s) see the stale heartbeat
        frozen = queue.store.get(job.id)
    finally:
        os.kill(child, signal.SIGCONT)
    assert (frozen.state, frozen.attempts, frozen.claim) == (JobState.RUNNING, 1, stale.claim)
    done = queue.wait_finished(job.id)
    assert done.state is JobState.SUCCEEDED and done.attempts == 1, done.error
    assert "late heartbeats, but running on a live worker" in queue.worker.log()


def test_a_queued_job_whose_message_was_lost_is_sent_again(queue):
    """A broker can lose a message (Redis restarted, a consumer that read a half-written file):
    a queued job that no worker claims is sent again by the sweeper."""
    job = queue.submit({"net_height": 184, "end_s": 0.5}, enqueue=False)  # no message at all
    done = queue.wait_finished(job.id, timeout_s=90)
    assert done.state is JobState.SUCCEEDED and done.attempts == 1, done.error
    assert done.frames_done == 15

"""``posestudio serve`` outlives its worker: a SIGKILLed Celery worker is restarted (under a new
node name) while the web server keeps answering, and the job the dead worker held is queued
again and finished by the new one. Real serve, real worker, embedded queue, real model.

JOB_STALE_AFTER_S is 600 here, so the job cannot have been recovered by a worker's
stale-heartbeat sweep: serve declaring the dead node's jobs orphaned is what brings it back."""
from __future__ import annotations

import os
import re
import signal
import time

import pytest

from config import Settings
from jobs import JobState, JobStore

from serve_process import ServeProcess, alive, command_line, descendants, proc_stat

pytestmark = pytest.mark.model

CLIP = "mmaction2_test_video_structuralize.mp4"  # 426x240, 29.97 fps
STARTED = re.compile(r"worker (posestudio-[0-9a-f]{8}@\S+) started")


def _celery_main(serve_pid: int) -> int:
    (pid,) = [p for p in descendants(serve_pid)
              if "celery" in command_line(p) and int(proc_stat(p)[1]) == serve_pid and alive(p)]
    return pid


def test_a_killed_worker_is_restarted_and_its_job_recovered_while_pages_answer(tmp_path, videos_dir, model_path):
    serve = ServeProcess(tmp_path, POSESTUDIO_MODEL_PATH=str(model_path), JOB_STALE_AFTER_S="600")
    store = None
    try:
        serve.wait_ready()
        store = JobStore(Settings.from_env(serve.env).effective_database_url)
        job_id = serve.upload(videos_dir / CLIP, net_height="184", end_s="4")["id"]  # 120 frames
        deadline = time.monotonic() + 180
        while not ((job := store.get(job_id)).state is JobState.RUNNING and job.frames_done > 0):
            assert time.monotonic() < deadline and not job.is_finished, (job, serve.log()[-3000:])
            time.sleep(0.1)
        first_name = job.worker
        assert STARTED.findall(serve.log()) == [first_name]
        worker_pid = _celery_main(serve.proc.pid)
        pool = [p for p in descendants(worker_pid) if alive(p)]
        assert pool, "the prefork pool process running the job"

        os.kill(worker_pid, signal.SIGKILL)  # the worker's main process only, as a crash would
        assert serve.get("/")[0] == 200  # the site does not go down with its worker
        text = serve.wait_for_log(lambda t: len(STARTED.findall(t)) == 2)
        second_name = STARTED.findall(text)[1]
        assert second_name != first_name
        assert f"worker {first_name} exited with code -9" in text and "restarting it in 1 s" in text
        assert [p for p in pool if alive(p)] == [], "the dead worker's pool processes were killed"
        assert serve.get("/")[0] == 200

        deadline = time.monotonic() + 240
        while not (job := store.get(job_id)).is_finished:
            assert time.monotonic() < deadline, (job, serve.log()[-3000:])
            time.sleep(0.2)
        assert job.state is JobState.SUCCEEDED, job.error
        assert job.attempts == 2 and job.worker == second_name and job.frames_done == 120
        assert serve.get_json(f"/api/jobs/{job_id}")["state"] == "succeeded"
        assert serve.proc.poll() is None
    finally:
        if store is not None:
            store.close()
        family = descendants(serve.proc.pid)
        assert serve.stop() == 0
        assert [p for p in family if alive(p)] == [], "children left behind"


def test_a_job_still_running_at_ctrl_c_is_queued_again_for_the_next_start(tmp_path, videos_dir, model_path):
    serve = ServeProcess(tmp_path, POSESTUDIO_MODEL_PATH=str(model_path), JOB_STALE_AFTER_S="600")
    store = None
    try:
        serve.wait_ready()
        store = JobStore(Settings.from_env(serve.env).effective_database_url)
        job_id = serve.upload(videos_dir / CLIP, net_height="184")["id"]
        deadline = time.monotonic() + 180
        while not ((job := store.get(job_id)).state is JobState.RUNNING and job.frames_done > 0):
            assert time.monotonic() < deadline and not job.is_finished, (job, serve.log()[-3000:])
            time.sleep(0.1)
        # Paused, so the worker's warm shutdown cannot let it finish first, however fast the machine.
        for pid in descendants(_celery_main(serve.proc.pid)):
            os.kill(pid, signal.SIGSTOP)
        assert serve.stop() == 0
        requeued = store.get(job_id)
        assert (requeued.state, requeued.attempts) == (JobState.QUEUED, 2)
        assert f"sent 1 job(s) of {job.worker} to the queue again: {job_id}" in serve.log()
    finally:
        if store is not None:
            store.close()
        serve.stop()

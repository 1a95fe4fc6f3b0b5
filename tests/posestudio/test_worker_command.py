"""``posestudio worker``: every worker process gets a node name of its own, so a second worker
started on the same host leaves the first one's running job alone (its start-up recovery
declares only its own name dead). Real workers, embedded queue, real model on a real clip.

The first worker's pool process is paused (SIGSTOP) while the second starts, so the job is
surely still running then, however fast the machine; JOB_STALE_AFTER_S is 600, so only a
start-up pass that took the live run for dead could requeue it."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config import Settings
from jobs import JobState, JobStore, upload_path
from workers.tasks import enqueue_job

from serve_process import ROOT, alive, command_line, descendants, serve_env

pytestmark = pytest.mark.model

CLIP = "mmaction2_test_video_structuralize.mp4"  # 426x240, 29.97 fps, 300 frames
NAME = re.compile(r"posestudio worker: node name (posestudio-[0-9a-f]{8}@\S+)")


class Worker:
    """``posestudio worker`` in its own process group, its output in ``log_path``."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "posestudio.cli", "worker"], cwd=ROOT,
                                         env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout_s: float = 120.0) -> str:
        """Waits for Celery's ' ready.' (start-up recovery has run by then); returns the node name."""
        deadline = time.monotonic() + timeout_s
        while " ready." not in self.log():
            assert self.proc.poll() is None and time.monotonic() < deadline, self.log()[-3000:]
            time.sleep(0.2)
        (name,) = NAME.findall(self.log())
        assert f"{name} ready." in self.log()
        return name

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # warm shutdown; the process is Celery itself (exec)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def test_a_second_worker_does_not_requeue_the_first_ones_running_job(tmp_path, videos_dir, model_path):
    env = serve_env(tmp_path, 0, POSESTUDIO_MODEL_PATH=str(model_path), JOB_STALE_AFTER_S="600")
    settings = Settings.from_env(env)
    store = JobStore(settings.effective_database_url)
    first = Worker(env, tmp_path / "first.log")
    second, pool = None, []
    try:
        first_name = first.wait_ready()
        job = store.create_job(source_name=CLIP, options={"net_height": 184}, owner="test", source_meta={})
        upload_path(settings, job.id).parent.mkdir(parents=True)
        shutil.copyfile(videos_dir / CLIP, upload_path(settings, job.id))
        enqueue_job(job.id, settings=settings)
        deadline = time.monotonic() + 180
        while not ((running := store.get(job.id)).state is JobState.RUNNING and running.frames_done > 0):
            assert time.monotonic() < deadline and not running.is_finished, (running, first.log()[-3000:])
            time.sleep(0.1)
        assert running.worker == first_name and running.attempts == 1
        pool = [pid for pid in descendants(first.proc.pid) if alive(pid)]
        _signal_all(pool, signal.SIGSTOP)

        second = Worker(env, tmp_path / "second.log")
        second_name = second.wait_ready()
        assert second_name != first_name
        after = store.get(job.id)
        assert (after.state, after.attempts, after.worker) == (JobState.RUNNING, 1, first_name), \
            "the second worker's start took the first one's live run for an orphan"
        _signal_all(pool, signal.SIGCONT)

        deadline = time.monotonic() + 240
        while not (done := store.get(job.id)).is_finished:
            assert time.monotonic() < deadline, (done, first.log()[-3000:])
            time.sleep(0.2)
        assert done.state is JobState.SUCCEEDED, done.error
        assert (done.attempts, done.worker, done.frames_done) == (1, first_name, 300)
        assert "requeued" not in first.log() + second.log()
    finally:
        _signal_all(pool, signal.SIGCONT)
        for worker in (second, first):
            if worker is not None:
                worker.stop()
        store.close()


GPU_NODE = re.compile(r"GPU (\d+): node name (posestudio-gpu\d+-[0-9a-f]{8}@\S+)")


def test_gpus_starts_one_worker_per_gpu_each_seeing_only_its_own(tmp_path, model_path):
    """No GPU here: `--gpus 0,1` names the GPUs, so the two workers start anyway (OpenVINO on the
    CPU); what is checked is what a GPU host relies on: one node per GPU, named after it, whose
    processes see only that GPU, each reporting it, and one SIGTERM stopping them all."""
    from web.broker_view import ask_broker

    env = serve_env(tmp_path, 0, POSESTUDIO_MODEL_PATH=str(model_path), WORKER_CONCURRENCY="1")
    log_path = tmp_path / "gpus.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "posestudio.cli", "worker", "--gpus", "0,1"], cwd=ROOT,
                                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while log_path.read_text(errors="replace").count(" ready.") < 2:
            assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.3)
        nodes = dict(GPU_NODE.findall(log_path.read_text()))
        assert sorted(nodes) == ["0", "1"] and nodes["0"].startswith("posestudio-gpu0-"), nodes
        for gpu, name in nodes.items():
            celery = [pid for pid in descendants(proc.pid) if f"--hostname {name}" in command_line(pid)]
            assert celery, name
            environ = Path(f"/proc/{celery[0]}/environ").read_bytes().split(b"\0")
            assert f"CUDA_VISIBLE_DEVICES={gpu}".encode() in environ
        devices: dict = {}
        deadline = time.monotonic() + 60  # the first answers can miss the broadcast's second on a loaded machine
        while sorted(devices) != sorted(nodes.values()) and time.monotonic() < deadline:
            devices = {w.name: w.device for w in ask_broker(Settings.from_env(env)).workers}
        assert sorted(devices) == sorted(nodes.values()), devices
        for gpu, name in nodes.items():  # OpenVINO runs on the CPU; the GPU it was given is named
            assert f"openvino (CUDA_VISIBLE_DEVICES={gpu}), batch 1, post-processing auto" in devices[name]
        group = descendants(proc.pid)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        assert not [pid for pid in group if alive(pid)], log_path.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_gpus_all_without_a_gpu_says_so(tmp_path):
    env = serve_env(tmp_path, 0, PATH="/usr/bin:/bin")  # no nvidia-smi on this PATH
    done = subprocess.run([sys.executable, "-m", "posestudio.cli", "worker", "--gpus", "all"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--gpus all: nvidia-smi lists no GPU here" in done.stderr
    done = subprocess.run([sys.executable, "-m", "posestudio.cli", "worker", "--gpus", "0,x"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--gpus must be all or GPU numbers separated by commas" in done.stderr

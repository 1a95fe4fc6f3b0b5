"""Harness for the queue tests: a real ``celery worker`` subprocess (its own process group, so a test can
SIGKILL the whole worker - main process and pool children - like a crashed machine would)."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from config import Settings
from jobs import Job, JobStore, upload_path
from workers.tasks import enqueue_job

ROOT = Path(__file__).resolve().parents[2]
CLIP = "mmaction2_test_video_structuralize.mp4"  # 426x240, 29.97 fps, 300 frames


def queue_env(root: Path, model_path: Path, **extra: str) -> dict[str, str]:
    """Environment for a worker (and Settings.from_env) with every folder under ``root`` and
    the embedded broker unless ``REDIS_URL`` is passed in ``extra``."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL")}
    env.update(POSESTUDIO_INSTANCE_DIR=str(root / "instance"), POSESTUDIO_UPLOADS_DIR=str(root / "uploads"),
               POSESTUDIO_OUTPUTS_DIR=str(root / "outputs"), POSESTUDIO_MODEL_PATH=str(model_path),
               SECRET_KEY="queue-tests", **extra)
    return env


class WorkerProcess:
    """``name`` is the node name's prefix: like every real worker, each start gets a node name
    of its own (``<name>-<hex>@<host>``, :attr:`node`)."""

    def __init__(self, env: dict[str, str], *, name: str, concurrency: int, log_path: Path):
        self.env, self.name, self.concurrency, self.log_path = env, name, concurrency, log_path
        self.proc: subprocess.Popen | None = None
        self.node = ""
        self._log_offset = 0

    def start(self, *, timeout_s: float = 120.0) -> "WorkerProcess":
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.node = f"{self.name}-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--pool", "prefork",
             "-c", str(self.concurrency), "-n", self.node, "--loglevel", "INFO",
             "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"celery worker exited with {self.proc.returncode}:\n{self.log()}")
            if " ready." in self.log():
                return self
            time.sleep(0.2)
        raise TimeoutError(f"celery worker not ready after {timeout_s} s:\n{self.log()}")

    def log(self) -> str:
        with open(self.log_path, "rb") as f:
            f.seek(self._log_offset)
            return f.read().decode(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean-up, no acknowledgements, nothing."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # warm shutdown: the main process stops its pool
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


class Queue:
    """One broker's world: settings, store, worker process, and helpers to submit and wait."""

    def __init__(self, settings: Settings, env: dict[str, str], worker: WorkerProcess, videos_dir: Path):
        self.settings, self.env, self.worker, self.clip = settings, env, worker, videos_dir / CLIP
        self.store = JobStore(settings.effective_database_url)

    def submit(self, options: dict, *, source: Path | None = None, enqueue: bool = True) -> Job:
        job = self.store.create_job(source_name=CLIP, options=options, owner="test", source_meta={})
        path = upload_path(self.settings, job.id)
        path.parent.mkdir(parents=True)
        shutil.copyfile(source or self.clip, path)
        if enqueue:
            enqueue_job(job.id, settings=self.settings)
        return job

    def wait(self, job_id: str, until, *, timeout_s: float = 180.0) -> Job:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            job = self.store.get(job_id)
            if until(job):
                return job
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} stuck: {self.store.get(job_id)}\n{self.worker.log()[-3000:]}")

    def wait_finished(self, job_id: str, **kw) -> Job:
        return self.wait(job_id, lambda j: j.is_finished, **kw)

    def leftovers(self, job_id: str) -> list[str]:
        return [p.name for p in Path(self.settings.outputs_dir).glob(f".{job_id}*")]


def pool_children(pid: int) -> list[int]:
    """Direct children of ``pid`` (a worker's prefork pool processes), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found

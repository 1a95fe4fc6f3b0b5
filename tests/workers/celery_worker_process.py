"""A real ``celery worker`` subprocess for the queue tests (its own process group, so a test can
SIGKILL the whole worker - main process and pool children - like a crashed machine would)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    def __init__(self, env: dict[str, str], *, name: str, concurrency: int, log_path: Path):
        self.env, self.name, self.concurrency, self.log_path = env, name, concurrency, log_path
        self.proc: subprocess.Popen | None = None
        self._log_offset = 0

    def start(self, *, timeout_s: float = 60.0) -> "WorkerProcess":
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--pool", "prefork",
             "-c", str(self.concurrency), "-n", f"{self.name}@%h", "--loglevel", "INFO",
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

"""Harness for the live tests: the real ``posestudio live`` in a subprocess on a free port (its
own process group), with the real model; started, waited for, stopped with SIGTERM."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveProcess:
    """``posestudio live`` with ``env`` (LIVE_*) on top of this one's; :attr:`url` once started."""

    def __init__(self, log_path: Path, model_path: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "POSESTUDIO_MODEL_PATH": str(model_path), "LIVE_URL": self.url,
                    "PYTHONUNBUFFERED": "1", **env}
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 120.0) -> "LiveProcess":
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "posestudio.cli", "live"], cwd=ROOT, env=self.env,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while "serving" not in self.log():
            if self.proc.poll() is not None:
                raise RuntimeError(f"posestudio live exited with {self.proc.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"posestudio live not serving after {timeout_s} s:\n{self.log()}")
            time.sleep(0.1)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def status(self) -> dict:
        with urllib.request.urlopen(self.url + "/status", timeout=10) as response:
            return json.load(response)

    def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait(timeout=10)

    def __enter__(self) -> "LiveProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def clip_frames(video: Path, *, count: int, start: int = 0, height: int = 360) -> list[bytes]:
    """``count`` consecutive frames of ``video`` from frame ``start``, scaled to ``height`` px high,
    as JPEG bytes (quality 80), the way the live page sends them."""
    import av
    import cv2

    out: list[bytes] = []
    with av.open(str(video)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index < start:
                continue
            image = frame.to_ndarray(format="bgr24")
            width = round(image.shape[1] * height / image.shape[0])
            ok, data = cv2.imencode(".jpg", cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA),
                                    [cv2.IMWRITE_JPEG_QUALITY, 80])
            assert ok
            out.append(data.tobytes())
            if len(out) == count:
                break
    return out

"""Harness for the ``posestudio serve`` tests: the real command in a subprocess, everything under
a temp folder, the embedded queue; plus /proc helpers and a multipart upload over loopback."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def http_get(port: int, path: str, *, timeout_s: float = 10.0) -> tuple[int, bytes]:
    """GET ``path`` from 127.0.0.1:``port``: (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state, ppid, pgrp, ...)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := proc_stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    fields = proc_stat(pid)
    return fields is not None and fields[0] != "Z"


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def serve_env(root: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL")}
    env.update(POSESTUDIO_INSTANCE_DIR=str(root / "instance"), POSESTUDIO_UPLOADS_DIR=str(root / "up"),
               POSESTUDIO_OUTPUTS_DIR=str(root / "out"), PORT=str(port), PYTHONUNBUFFERED="1",
               LIVE_URL=f"http://127.0.0.1:{free_port()}")  # the live server on a port of its own
    env.update(extra)
    return env


class ServeProcess:
    """``posestudio serve --workers 1`` on 127.0.0.1, an ephemeral port, all state under ``root``."""

    def __init__(self, root: Path, *args: str, **env: str):
        self.root, self.port = root, free_port()
        self.env = serve_env(root, self.port, **env)
        self.log_path = root / "serve.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "posestudio.cli", "serve", "--workers", "1", *args],
                                     cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, predicate, *, timeout_s: float = 120.0) -> str:
        deadline = time.monotonic() + timeout_s
        while True:
            text = self.log()
            if predicate(text):
                return text
            assert self.proc.poll() is None, f"serve exited with {self.proc.returncode}:\n{text[-4000:]}"
            assert time.monotonic() < deadline, f"timed out waiting on the serve log:\n{text[-4000:]}"
            time.sleep(0.2)

    def wait_ready(self) -> None:
        """The web server answers and the first worker logged ' ready.'."""
        self.wait_for_log(lambda t: f"running at http://127.0.0.1:{self.port}" in t and " ready." in t)

    def get(self, path: str, *, timeout_s: float = 10.0) -> tuple[int, bytes]:
        return http_get(self.port, path, timeout_s=timeout_s)

    def get_json(self, path: str) -> dict:
        status, body = self.get(path)
        assert status == 200, (path, status, body[:200])
        return json.loads(body)

    def upload(self, video: Path, **fields: str) -> dict:
        """POST /api/jobs as a script does (multipart, no cookie); returns the 202's JSON."""
        status, body = post_multipart(self.port, "/api/jobs", video.read_bytes(), video.name, fields)
        assert status == 202, (status, body)
        return json.loads(body)

    def stop(self) -> int:
        """SIGINT (Ctrl-C) and wait; returns serve's exit code."""
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGINT)
            return self.proc.wait(timeout=60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._log.close()


def multipart(data: bytes, filename: str, fields: dict[str, str]) -> tuple[str, bytes]:
    """(Content-Type, body) of a form with ``fields`` and the file in field ``video``."""
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="video"; filename="{filename}"\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


def post_multipart(port: int, path: str, data: bytes, filename: str, fields: dict[str, str]) -> tuple[int, bytes]:
    content_type, body = multipart(data, filename, fields)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": content_type})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()

"""Slow and stalled uploads against the real web server (gunicorn gthread with serve's 2 processes
x 8 threads, on loopback): pages keep answering while uploads trickle, a client that stalls or
trickles is cut off with a 408 naming the limit, and its partial upload file is removed.

Bounds here are generous (seconds where milliseconds are expected) and say only "it answered",
not how fast; the numbers are in bench/abuse_web.py."""
from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from posestudio.commands.serve import web_command
from web_helpers import ROOT

DECLARED = 100 * 1024**2  # each trickling client says it will send 100 MB


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, root: Path, **env: str):
        self.port, self.root = _free_port(), root
        full_env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL")}
        full_env.update(POSESTUDIO_INSTANCE_DIR=str(root / "instance"), POSESTUDIO_UPLOADS_DIR=str(root / "up"),
                        POSESTUDIO_OUTPUTS_DIR=str(root / "out"), SECRET_KEY="slow-clients", **env)
        self.log = open(root / "gunicorn.log", "wb")
        self.proc = subprocess.Popen(web_command("127.0.0.1", self.port, workers=2, threads=8),  # serve's defaults
                                     cwd=ROOT, env=full_env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert self.proc.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)

    def incoming(self) -> list[Path]:
        return sorted((self.root / "up" / ".incoming").glob("part-*"))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    web = Gunicorn(tmp_path_factory.mktemp("slow-clients"))  # default limits: 4 slots, 30 s
    yield web
    web.stop()


@pytest.fixture(scope="module")
def impatient_server(tmp_path_factory):
    web = Gunicorn(tmp_path_factory.mktemp("stalled-clients"), UPLOAD_READ_TIMEOUT_S="2")
    yield web
    web.stop()


def _upload_head(port: int, path: str, declared: int) -> bytes:
    boundary = uuid.uuid4().hex
    part = (f'--{boundary}\r\nContent-Disposition: form-data; name="video"; filename="slow.mp4"\r\n'
            "Content-Type: video/mp4\r\n\r\n").encode()
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(part) + declared}\r\n\r\n").encode() + part


def _answer(sock: socket.socket, wait_s: float) -> bytes:
    """The response the server sent on ``sock``, if it began within ``wait_s`` (else b""):
    read until its Content-Length is complete or the connection ends (10 s at most)."""
    ready, _, _ = select.select([sock], [], [], wait_s)
    data = b""
    deadline = time.monotonic() + 10
    while ready and time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
        head, sep, body = data.partition(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), None)
        if sep and length is not None and len(body) >= length:
            break
        ready, _, _ = select.select([sock], [], [], 1.0)
    return data


class Tricklers:
    """``count`` uploads that each declare DECLARED bytes and then send one byte a second (for
    at most ``max_s``), in one background thread; the server's answers are collected."""

    def __init__(self, port: int, count: int, *, max_s: float = 120.0):
        self.socks = []
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(_upload_head(port, "/api/jobs", DECLARED))
            self.socks.append(sock)
        self.answers: dict[int, bytes] = {}
        self.sent = 0  # bytes each client has trickled so far
        self._stop = threading.Event()
        self._max_s = max_s
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        deadline = time.monotonic() + self._max_s
        while not self._stop.is_set() and time.monotonic() < deadline:
            for i, sock in enumerate(self.socks):
                if i not in self.answers:
                    self._collect(i, sock)
                if i not in self.answers:
                    try:
                        sock.send(b"x")
                    except OSError:
                        self.answers[i] = b"(closed)"
            self.sent += 1
            self._stop.wait(1.0)

    def _collect(self, i: int, sock: socket.socket) -> None:
        answer = _answer(sock, 0)
        if answer:
            self.answers[i] = answer

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for sock in self.socks:
            sock.close()


def _get_page(port: int, timeout_s: float) -> int:
    conn = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
    with conn:
        conn.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        head = conn.recv(64)
    return int(head.split()[1])


def test_trickling_uploads_do_not_keep_pages_from_answering(server):
    tricklers = Tricklers(server.port, 16)
    try:
        deadline = time.monotonic() + 30
        while tricklers.sent < 3:  # every client is in and has been trickling for a while
            assert time.monotonic() < deadline
            time.sleep(0.2)
        for _ in range(5):
            assert _get_page(server.port, timeout_s=5.0) == 200
        # The uploads over the slots (4 per process, 2 processes) were refused at once, unread.
        deadline = time.monotonic() + 30
        while sum(a.startswith(b"HTTP/1.1 503") for a in tricklers.answers.values()) < 8:
            assert time.monotonic() < deadline, tricklers.answers
            time.sleep(0.2)
        busy = next(a for a in tricklers.answers.values() if a.startswith(b"HTTP/1.1 503"))
        assert b"\r\nRetry-After: " in busy and b"UPLOAD_SLOTS" in busy
    finally:
        tricklers.close()


@pytest.mark.parametrize("path, trickle", [("/api/jobs", False), ("/api/jobs", True), ("/", False)])
def test_a_stalled_or_trickling_upload_is_cut_off_with_408_and_its_file_removed(impatient_server, path, trickle):
    port = impatient_server.port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(_upload_head(port, path, DECLARED) + b"\0" * (100 * 1024))
        deadline = time.monotonic() + 30
        while not impatient_server.incoming():  # the partial file is on disk while it waits
            assert time.monotonic() < deadline, "no partial upload file appeared"
            time.sleep(0.1)
        answer = b""
        deadline = time.monotonic() + 60
        while not answer and time.monotonic() < deadline:
            if trickle:
                sock.send(b"x")
            answer = _answer(sock, 1.0)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), answer[:300]
        if path.startswith("/api/"):
            assert "UPLOAD_READ_TIMEOUT_S" in json.loads(body)["error"]
        else:
            assert b"That upload was too slow" in body and b"UPLOAD_READ_TIMEOUT_S" in body
    assert impatient_server.incoming() == []


@pytest.mark.parametrize("name", ["UPLOAD_SLOTS", "UPLOAD_READ_TIMEOUT_S"])
def test_the_limits_must_be_at_least_one(name):
    from config import Settings

    with pytest.raises(ValueError, match=f"environment variable {name} must be at least 1, got 0"):
        Settings.from_env({"SECRET_KEY": "s", name: "0"})
    assert getattr(Settings.from_env({"SECRET_KEY": "s", name: "7"}), name.lower()) == 7

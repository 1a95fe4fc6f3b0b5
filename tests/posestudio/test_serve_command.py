"""``posestudio serve`` really starts gunicorn and a Celery worker, serves pages, and Ctrl-C
(SIGINT) stops both with no process left behind."""
from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from serve_process import ROOT, alive, descendants, free_port


def test_serve_starts_web_worker_and_live_server_and_sigint_stops_them(tmp_path):
    if not (ROOT / "app.py").is_file():
        pytest.skip("app.py (the web app) is not part of this build yet")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL")}
    env.update(POSESTUDIO_INSTANCE_DIR=str(tmp_path / "instance"), POSESTUDIO_UPLOADS_DIR=str(tmp_path / "up"),
               POSESTUDIO_OUTPUTS_DIR=str(tmp_path / "out"), PORT=str(port), PYTHONUNBUFFERED="1",
               LIVE_URL=f"http://127.0.0.1:{free_port()}")
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "posestudio.cli", "serve", "--workers", "1"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, umask=0o022)
    try:
        deadline = time.monotonic() + 60
        text = ""
        while f"running at http://127.0.0.1:{port}" not in text:
            assert proc.poll() is None and time.monotonic() < deadline, text
            time.sleep(0.2)
            text = (tmp_path / "serve.log").read_text(errors="replace")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert response.status == 200 and b"<html" in response.read().lower()
        while "posestudio-" not in text or " ready." not in text:  # the worker is up too
            assert time.monotonic() < deadline, text
            time.sleep(0.2)
            text = (tmp_path / "serve.log").read_text(errors="replace")
        # Private to this user, although it started with a login's umask of 022.
        for folder in ("instance", "up", "out"):
            assert stat.S_IMODE((tmp_path / folder).stat().st_mode) == 0o700, folder
        for name in ("posestudio.sqlite3", "secret_key"):
            assert stat.S_IMODE((tmp_path / "instance" / name).stat().st_mode) == 0o600, name
        family = descendants(proc.pid)
        commands = [Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ") for p in family if alive(p)]
        assert any(b"gunicorn" in c for c in commands) and any(b"celery" in c for c in commands)
        assert any(b"posestudio.cli live" in c for c in commands), commands
        while "posestudio live: serving openpose" not in text:  # the live server loaded its model
            assert time.monotonic() < deadline, text
            time.sleep(0.2)
            text = (tmp_path / "serve.log").read_text(errors="replace")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/live/status", timeout=10) as response:
            assert json.load(response)["sessions"]["limit"] == 2  # the web app reaches it
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        time.sleep(0.2)
        assert [p for p in family if alive(p)] == [], "children left behind"
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()


def test_serve_refuses_a_port_in_use_and_starts_nothing(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = dict(os.environ, POSESTUDIO_INSTANCE_DIR=str(tmp_path / "instance"),
                   POSESTUDIO_UPLOADS_DIR=str(tmp_path / "up"), POSESTUDIO_OUTPUTS_DIR=str(tmp_path / "out"))
        done = subprocess.run([sys.executable, "-m", "posestudio.cli", "serve", "--port", str(port)],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use" in done.stderr and "--port" in done.stderr
    assert "running at" not in done.stdout

"""``posestudio serve``'s live server: started, restarted after it was killed (the web app would
say "not reachable" meanwhile), and stopped with nothing left behind. Real processes, real model."""
from __future__ import annotations

import json
import os
import signal
import time
import urllib.request

import pytest

from config import LiveSettings
from posestudio.live_supervisor import LiveSupervisor
from serve_process import alive, descendants, free_port

pytestmark = pytest.mark.model


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/status", timeout=2) as response:
            return json.load(response)["status"] == "ok"
    except OSError:
        return False


def wait_answering(supervisor: LiveSupervisor, url: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not answers(url):
        assert time.monotonic() < deadline, "the live server did not answer"
        supervisor.tick()
        time.sleep(0.2)


def test_the_live_server_is_restarted_when_it_dies_and_stopped_with_nothing_left(model_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("POSESTUDIO_MODEL_PATH", str(model_path))
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("LIVE_URL", url)
    supervisor = LiveSupervisor(LiveSettings(url=url, sessions=1))
    supervisor.start()
    try:
        wait_answering(supervisor, url)
        first = supervisor.proc.pid
        os.killpg(first, signal.SIGKILL)  # out of memory, or a crash
        wait_answering(supervisor, url)
        assert supervisor.proc.pid != first and not alive(first)
        assert "the live server exited with code -9" in capsys.readouterr().err
        family = {supervisor.proc.pid, *descendants(supervisor.proc.pid)}
    finally:
        supervisor.stop()
    assert [pid for pid in family if alive(pid)] == [] and not answers(url)

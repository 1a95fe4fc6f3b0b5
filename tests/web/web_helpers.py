"""Helpers shared by the web tests (imported by name: pytest puts this folder on sys.path)."""
from __future__ import annotations

import importlib.util
import re
import threading
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Iterator

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from config import Settings

ROOT = Path(__file__).resolve().parents[2]
#: Debian's chromium, which the browser tests drive through Playwright, and how they launch it.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@contextmanager
def chromium(*extra_args: str) -> Iterator:
    """Debian's chromium through Playwright (skips the test where it is not installed), launched
    with :data:`CHROMIUM_ARGS` and ``extra_args`` (e.g. a fake camera: fake_camera.py)."""
    import pytest

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed: run `make test-setup` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra_args])
        try:
            yield browser
        finally:
            browser.close()


def page_errors(page, *, failed_requests: bool = False) -> list[str]:
    """The list a browser test asserts empty at its end: every script error of ``page``, anything
    its Content-Security-Policy blocks (an inline style or handler is a console error) and, with
    ``failed_requests``, every response of 400 or more but the favicon's."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text else None)
    if failed_requests:
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    return errors


def make_settings(root: Path, **overrides) -> Settings:
    settings = Settings(instance_dir=root / "instance", uploads_dir=root / "uploads",
                        outputs_dir=root / "outputs", secret_key="test-secret-" + root.name)
    return settings.with_overrides(**overrides)


def app_and_task(root: Path, **overrides) -> tuple:
    """(app, settings, store, task) for a test that runs a job in this process: the app on
    :func:`make_settings`, its job store, and the worker's task body (what the worker would run)."""
    from app import create_app
    from workers.celery_app import create_celery
    from workers.tasks import TASK_NAME

    settings = make_settings(root, **overrides)
    app = create_app({"SETTINGS": settings, "TESTING": True})
    return app, settings, app.extensions["posestudio"].store, create_celery(settings).tasks[TASK_NAME]


def csrf_of(client: FlaskClient) -> str:
    """The CSRF token the pages hand this client (read from the upload page's meta tag)."""
    page = client.get("/").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def tiny_jpeg() -> bytes:
    import cv2
    import numpy as np

    ok, data = cv2.imencode(".jpg", np.full((36, 64, 3), 90, np.uint8))
    assert ok
    return data.tobytes()


class LiveServer:
    """The app behind werkzeug's threaded WSGI server on 127.0.0.1, an ephemeral port."""

    def __init__(self, app: Flask):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


def live_process_module() -> ModuleType:
    """The live server's test harness (tests/live/live_process.py), loaded by path."""
    return _load(ROOT / "tests" / "live" / "live_process.py", "live_process_for_web")


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def worker_process_module() -> ModuleType:
    """A1's real-worker launcher (tests/workers/celery_worker_process.py), loaded by path."""
    path = ROOT / "tests" / "workers" / "celery_worker_process.py"
    spec = importlib.util.spec_from_file_location("celery_worker_process_for_web", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def gunicorn_server(root: Path, env: dict[str, str] | None = None, *, processes: int = 1, threads: int = 2,
                    log_path: Path | None = None, **extra: str) -> Iterator[int]:
    """The web app under gunicorn as `posestudio serve` starts it (``processes`` x ``threads``) on
    a free loopback port, its folders under ``root``, no broker or database from this environment
    (the embedded queue, SQLite), live pose off; ``env`` replaces the environment, ``extra`` adds
    to it; its output goes to ``log_path`` (or nowhere). Yields the port once it accepts
    connections; stops it after."""
    import os
    import socket
    import subprocess
    import time

    from posestudio.commands.serve import web_command

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    if env is None:
        env = {k: v for k, v in os.environ.items()
               if k not in ("REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL", "ALLOWED_HOSTS")}
        env.update(POSESTUDIO_INSTANCE_DIR=str(root / "instance"), POSESTUDIO_UPLOADS_DIR=str(root / "up"),
                   POSESTUDIO_OUTPUTS_DIR=str(root / "out"), LIVE_SESSIONS="0")
    with open(log_path or os.devnull, "wb") as log:
        server = subprocess.Popen(web_command("127.0.0.1", port, workers=processes, threads=threads), cwd=ROOT,
                                  env={**env, **extra}, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)

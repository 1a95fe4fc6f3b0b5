"""Helpers shared by the web tests (imported by name: pytest puts this folder on sys.path)."""
from __future__ import annotations

import importlib.util
import re
import threading
from pathlib import Path
from types import ModuleType

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from config import Settings

ROOT = Path(__file__).resolve().parents[2]
#: Debian's chromium, which the browser tests drive through Playwright, and how they launch it.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def make_settings(root: Path, **overrides) -> Settings:
    settings = Settings(instance_dir=root / "instance", uploads_dir=root / "uploads",
                        outputs_dir=root / "outputs", secret_key="test-secret-" + root.name)
    return settings.with_overrides(**overrides)


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


def worker_process_module() -> ModuleType:
    """A1's real-worker launcher (tests/workers/celery_worker_process.py), loaded by path."""
    path = ROOT / "tests" / "workers" / "celery_worker_process.py"
    spec = importlib.util.spec_from_file_location("celery_worker_process_for_web", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

"""What the service writes is its user's alone: a real job, uploaded through the web app and run by
a real Celery worker (the real model), leaves no file or folder that the group or others may read
(the instance folder with the SQLite database, its -wal/-shm and the secret; uploads; outputs).

Both processes start with the umask 022 of a typical login, so the folders and files are private
because the service made them so (``jobs.paths.make_service_folders``), not by the luck of it.
"""
from __future__ import annotations

import io
import os
import stat
import time
from pathlib import Path
from typing import Iterator

import pytest

from app import create_app
from config import Settings
from jobs import JobState, output_dir, upload_path
from web_helpers import worker_process_module

pytestmark = pytest.mark.model
CLIP = "mmpose_demo.mp4"


@pytest.fixture
def login_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def shared_with_others(root: Path) -> list[str]:
    """Every file or folder under (and including) ``root`` with a group or other permission bit."""
    found = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            found.append(f"{path.relative_to(root.parent)} {mode:o}")
    return found


def test_a_jobs_files_are_private_to_the_service(login_umask, tmp_path: Path, videos_dir: Path,
                                                 model_path: Path) -> None:
    # KEEP_UPLOADS: the upload stays after the job succeeded, so that its mode can be checked too.
    env = worker_process_module().queue_env(tmp_path, model_path, KEEP_UPLOADS="1")
    del env["SECRET_KEY"]  # so that the service keeps one in instance/secret_key
    settings = Settings.from_env(env)
    worker = worker_process_module().WorkerProcess(env, name="private-files", concurrency=1,
                                                   log_path=tmp_path / "worker.log")
    worker.start()  # inherits the umask 022
    try:
        app = create_app({"SETTINGS": settings, "TESTING": True})
        store = app.extensions["posestudio"].store
        client = app.test_client()
        response = client.post("/api/jobs", data={"video": (io.BytesIO((videos_dir / CLIP).read_bytes()), CLIP),
                                                  "end_s": "0.5", "net_height": "128"})
        assert response.status_code == 202, response.get_json()
        job_id = response.get_json()["id"]
        deadline = time.monotonic() + 180
        while not store.get(job_id).state.is_terminal:
            assert time.monotonic() < deadline, worker.log()
            time.sleep(0.3)
        assert store.get(job_id).state == JobState.SUCCEEDED, store.get(job_id).error
        assert client.get(f"/jobs/{job_id}/download.zip").status_code == 200  # built by the web app
        instance = Path(settings.instance_dir)
        written = {p.name for p in instance.iterdir()}
        assert {"posestudio.sqlite3", "posestudio.sqlite3-wal", "posestudio.sqlite3-shm",
                "secret_key", "broker"} <= written, written
        assert upload_path(settings, job_id).is_file()
        assert (output_dir(settings, job_id) / "all_outputs.zip").is_file()
        assert (output_dir(settings, job_id) / "screenshots" / "poster.jpg").is_file()
        for root in (instance, settings.uploads_dir, settings.outputs_dir):
            assert shared_with_others(Path(root)) == []
    finally:
        worker.stop()

"""SQLite's two ways of being there but unusable, each with its own message instead of "the job
database is unreachable": another process holds its lock ("database is locked") and its disk is
full ("database or disk is full"). Real SQLite files: one locked by a second connection, one on
a full tmpfs. Each is a 503 that says which, keeps nothing of the refused upload, and the app
serves again once the lock is released or space is freed."""
from __future__ import annotations

import io
import sqlite3
from pathlib import Path

from app import create_app
from jobs import store as job_store
from web.errors import DATABASE_FULL, DATABASE_LOCKED
from web_helpers import make_settings

from tmpfs import fill, free, small_disk


def _upload(app, video: Path):
    return app.test_client().post("/api/jobs", data={"video": (io.BytesIO(video.read_bytes()), "a.mp4")})


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_a_locked_sqlite_file_is_a_503_that_says_it_is_busy(tmp_path, sample_video, monkeypatch):
    monkeypatch.setattr(job_store, "SQLITE_BUSY_TIMEOUT_S", 0.2)  # 30 s in service: not a test's wait
    settings = make_settings(tmp_path)
    app = create_app({"SETTINGS": settings, "TESTING": True})
    assert app.test_client().get("/readyz").status_code == 200  # the tables exist
    holder = sqlite3.connect(settings.instance_dir / "posestudio.sqlite3", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process's long write
    try:
        response = _upload(app, sample_video)
        assert response.status_code == 503 and response.headers["Retry-After"]
        assert response.get_json()["error"] == DATABASE_LOCKED
        assert _files(settings.uploads_dir) == []  # nothing of the refused upload kept
        ready = app.test_client().get("/readyz").get_json()
        assert ready["checks"]["database"] == "the job database is locked by another process (it does not take a write)"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _upload(app, sample_video).status_code == 202  # the lock is gone: no restart


def test_a_sqlite_file_on_a_full_disk_is_a_503_that_says_the_disk_is_full(tmp_path, sample_video):
    with small_disk(tmp_path / "instance", "2m") as disk:
        settings = make_settings(tmp_path)
        app = create_app({"SETTINGS": settings, "TESTING": True})
        assert _upload(app, sample_video).status_code == 202
        fill(disk)
        response = _upload(app, sample_video)
        assert response.status_code == 503 and response.headers["Retry-After"]
        assert response.get_json()["error"] == DATABASE_FULL
        assert len(_files(settings.uploads_dir)) == 1  # the first job's video only
        page = app.test_client().get("/readyz").get_json()
        assert page["checks"]["database"] == "the job database's disk is full (it does not take a write)"
        free(disk)
        assert _upload(app, sample_video).status_code == 202

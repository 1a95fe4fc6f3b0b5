"""Fixtures for the web tests: an isolated app (own folders, SQLite, embedded broker) per test,
and helpers to make a finished job without running the model (for output-serving tests)."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from config import Settings
from jobs import Job, JobStore, output_dir
from web_helpers import make_settings, tiny_jpeg


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, max_upload_bytes=8 * 1024**2)


@pytest.fixture
def app(settings: Settings) -> Flask:
    # The real Celery enqueue on the embedded filesystem broker under the test's instance folder:
    # enqueued jobs become message files there (no worker consumes them in these tests).
    return create_app({"SETTINGS": settings, "TESTING": True})


@pytest.fixture
def store(app: Flask) -> JobStore:
    return app.extensions["posestudio"].store


@pytest.fixture
def browser_client(app: Flask) -> FlaskClient:
    """A client with the session cookie (it opened the upload page), like a browser."""
    client = app.test_client()
    assert client.get("/").status_code == 200
    return client


@pytest.fixture
def sample_video(videos_dir: Path) -> Path:
    return videos_dir / "mmpose_demo.mp4"


@pytest.fixture
def finished_job(store: JobStore, settings: Settings, sample_video: Path) -> Callable[..., Job]:
    """Make a succeeded job whose output folder holds files of every kind (real MP4 and JPEGs)."""

    def make(owner: str | None = None) -> Job:
        job = store.create_job(source_name="street.mp4", options={}, owner=owner, source_meta={})
        claim = store.mark_running(job.id, worker="test").claim
        out = output_dir(settings, job.id)
        (out / "screenshots").mkdir(parents=True)
        shutil.copyfile(sample_video, out / "annotated.mp4")
        jpeg = tiny_jpeg()
        for name in ("t000000.000.jpg", "t000005.000.jpg", "poster.jpg"):
            (out / "screenshots" / name).write_bytes(jpeg)
        (out / "keypoints.json").write_text('{"frames": []}')
        (out / "keypoints.csv").write_text("frame,track_id\n")
        (out / "tracks_mot.txt").write_text("")
        shutil.make_archive(str(out / "openpose_json"), "zip", out / "screenshots")
        from output_folders import list_outputs

        assert store.mark_succeeded(job.id, outputs=list_outputs(out), timings={}, claim=claim)
        return store.get(job.id)

    return make

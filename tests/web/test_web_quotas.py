"""Bounds on job creation (issue 18, finding 10): one form POST made 30 jobs, and nothing
bounded the jobs one session queued. Now: MAX_FILES_PER_UPLOAD files per form (400) and
MAX_JOBS_PER_SESSION queued or running jobs per session (429), each with a message that says
what to do, and nothing stored or queued when refused. Real app, real video, real embedded
queue."""
from __future__ import annotations

import io
from pathlib import Path

from flask.testing import FlaskClient

from app import create_app
from jobs import JobState
from web_helpers import csrf_of, make_settings


def _client(tmp_path: Path, **limits):
    app = create_app({"SETTINGS": make_settings(tmp_path, **limits), "TESTING": True})
    client = app.test_client()
    assert client.get("/").status_code == 200  # a browser: it has its session cookie
    return app, client


def _nothing_kept(app, tmp_path: Path) -> None:
    settings = app.extensions["posestudio"].settings
    assert [p for p in settings.uploads_dir.rglob("*") if p.is_file()] == []
    assert list((settings.instance_dir / "broker" / "queue").glob("*.msg")) == []


def _form(client: FlaskClient, data: bytes, count: int):
    return client.post("/", data={"csrf_token": csrf_of(client),
                                  "video": [(io.BytesIO(data), f"{n}.mp4") for n in range(count)]},
                       content_type="multipart/form-data")


def test_a_form_with_too_many_files_queues_nothing_and_says_the_bound(tmp_path, sample_video) -> None:
    app, client = _client(tmp_path / "a", max_files_per_upload=3)
    response = _form(client, sample_video.read_bytes(), 4)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "At most 3 videos can be sent in one upload; 4 were sent" in page
    assert app.extensions["posestudio"].store.list_jobs() == []
    _nothing_kept(app, tmp_path / "a")
    assert _form(client, sample_video.read_bytes(), 3).status_code == 303


def test_a_session_over_its_quota_gets_429_on_the_form_and_the_api(tmp_path, sample_video) -> None:
    app, client = _client(tmp_path, max_jobs_per_session=2)
    data = sample_video.read_bytes()
    assert _form(client, data, 3).status_code == 429  # 3 would be over the bound at once
    assert _form(client, data, 2).status_code == 303
    store = app.extensions["posestudio"].store
    assert len(store.list_jobs()) == 2
    queued_before = sorted(p.name for p in (tmp_path / "instance" / "broker" / "queue").glob("*.msg"))

    response = client.post("/api/jobs", data={"csrf_token": csrf_of(client), "video": (io.BytesIO(data), "c.mp4")},
                           content_type="multipart/form-data")
    assert response.status_code == 429
    message = response.get_json()["error"]
    assert "already has 2 jobs queued or running" in message and "at most 2" in message
    page = _form(client, data, 1)
    assert page.status_code == 429 and "already has 2 jobs queued or running" in page.get_data(as_text=True)
    assert len(store.list_jobs()) == 2
    assert sorted(p.name for p in (tmp_path / "instance" / "broker" / "queue").glob("*.msg")) == queued_before

    # A job that finished frees its place; another browser has a quota of its own.
    first = store.list_jobs()[-1]
    store.mark_running(first.id, worker="w")
    store.mark_failed(first.id, error="done with it")
    assert store.get(first.id).state is JobState.FAILED
    assert _form(client, data, 1).status_code == 303
    other = app.test_client()
    assert other.get("/").status_code == 200
    assert _form(other, data, 2).status_code == 303

"""Running it as a service: health checks, the metrics gate, the owner's delete, expired jobs,
retries that need a deleted upload, and the admin's filters, pages, bulk delete and broker view."""
from __future__ import annotations

import base64
import io
import socket
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from jobs import Job, JobState, JobStore, output_dir, upload_path
from jobs.retention import sweep
from web_helpers import csrf_of, make_settings

from pg_schemas import own_schema, schema_url
from tcp_proxy import TcpProxy

REMOTE = {"REMOTE_ADDR": "203.0.113.9"}


def _basic(password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()}


def test_livez_and_readyz_when_all_is_well(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/livez").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok", "storage": "ok"}}


def test_readyz_is_503_with_the_reason_when_the_broker_is_away(tmp_path: Path) -> None:
    app = create_app({"SETTINGS": make_settings(tmp_path, broker_url="redis://127.0.0.1:1/0"), "TESTING": True})
    response = app.test_client().get("/readyz")
    body = response.get_json()
    assert response.status_code == 503 and body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok" and "broker" in body["checks"]["broker"]
    assert "not reachable" in body["reason"] and "127.0.0.1:1" not in body["reason"]  # no addresses
    assert app.test_client().get("/livez").status_code == 200  # alive all the same


def test_the_upload_page_warns_while_the_job_queue_is_down(tmp_path: Path, monkeypatch) -> None:
    """Uploads are refused (503) while the broker is away; the page says so before anyone picks
    a file. Real Redis (a db of this test's own) through a relay that the test then stops."""
    import time

    import web.queue_notice

    monkeypatch.setattr(web.queue_notice, "REFRESH_S", 0.2)
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("Redis not reachable at 127.0.0.1:6379")
    relay = TcpProxy(6379)
    app = create_app({"SETTINGS": make_settings(tmp_path, broker_url=f"redis://127.0.0.1:{relay.port}/14"),
                      "TESTING": True})
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    assert 'id="upload-form"' in page and 'id="queue-down"' not in page
    time.sleep(1)  # the check the first view started is done (the page never waits for it)
    assert 'id="queue-down"' not in client.get("/").get_data(as_text=True)
    relay.stop()
    deadline = time.monotonic() + 10
    while 'id="queue-down"' not in (page := client.get("/").get_data(as_text=True)):
        assert time.monotonic() < deadline, "the upload page never said the queue is down"
        time.sleep(0.2)
    assert "job queue is not reachable" in page and 'id="upload-form"' in page  # the form stays


@pytest.mark.postgres
def test_readyz_is_503_with_the_reason_when_the_database_is_away(tmp_path: Path) -> None:
    with own_schema("readyz") as schema:
        proxy = TcpProxy(5432)
        try:
            app = create_app({"SETTINGS": make_settings(tmp_path, database_url=schema_url(schema, port=proxy.port)),
                              "TESTING": True})
            client = app.test_client()
            assert client.get("/readyz").status_code == 200
            proxy.stop()
            response = client.get("/readyz")
            body = response.get_json()
            assert response.status_code == 503 and body["checks"]["broker"] == "ok"
            assert "database does not answer" in body["checks"]["database"] and str(proxy.port) not in body["reason"]
            app.extensions["posestudio"].store.close()
        finally:
            proxy.stop()


def test_metrics_are_behind_the_admin_gate_unless_public(tmp_path: Path) -> None:
    local = create_app({"SETTINGS": make_settings(tmp_path / "a"), "TESTING": True}).test_client()
    response = local.get("/metrics")
    assert response.status_code == 200 and response.content_type.startswith("text/plain; version=0.0.4")
    assert "posestudio_jobs{" in response.get_data(as_text=True)
    assert local.get("/metrics", environ_base=REMOTE).status_code == 403
    guarded = create_app({"SETTINGS": make_settings(tmp_path / "b", admin_password="s3cret"),
                          "TESTING": True}).test_client()
    assert guarded.get("/metrics", environ_base=REMOTE).status_code == 401
    assert guarded.get("/metrics", environ_base=REMOTE, headers=_basic("nope")).status_code == 401
    assert guarded.get("/metrics", environ_base=REMOTE, headers=_basic("s3cret")).status_code == 200
    public = create_app({"SETTINGS": make_settings(tmp_path / "c", admin_password="s3cret", metrics_public=True),
                         "TESTING": True}).test_client()
    assert public.get("/metrics", environ_base=REMOTE).status_code == 200
    assert public.get("/admin/", environ_base=REMOTE).status_code == 401  # only /metrics opened


def _with_upload(settings, job: Job) -> Job:
    upload_path(settings, job.id).parent.mkdir(parents=True, exist_ok=True)
    upload_path(settings, job.id).write_bytes(b"video")
    return job


def test_the_owner_deletes_a_job_by_its_id_204_then_404(app: Flask, store: JobStore, settings,
                                                        finished_job: Callable[..., Job]) -> None:
    done = _with_upload(settings, finished_job())
    script = app.test_client()  # no cookie: whoever holds the id, like cancel
    assert script.delete(f"/api/jobs/{done.id}").status_code == 204
    assert not output_dir(settings, done.id).exists() and not upload_path(settings, done.id).parent.exists()
    assert script.get(f"/api/jobs/{done.id}").status_code == 404
    assert app.test_client().get(f"/jobs/{done.id}").status_code == 404  # (a page gives a cookie)
    assert script.delete(f"/api/jobs/{done.id}").status_code == 404
    running = store.create_job(source_name="r.mp4", options={}, owner=None, source_meta={})
    store.mark_running(running.id, worker="w")
    assert script.delete(f"/api/jobs/{running.id}").status_code == 204
    assert script.get(f"/api/jobs/{running.id}").status_code == 404


def test_deleting_from_the_job_page_needs_the_token_and_returns_to_my_jobs(
        browser_client: FlaskClient, settings, finished_job: Callable[..., Job]) -> None:
    done = finished_job()
    page = browser_client.get(f"/jobs/{done.id}").get_data(as_text=True)
    assert 'id="delete-form"' in page and f'action="/jobs/{done.id}/delete"' in page
    assert browser_client.delete(f"/api/jobs/{done.id}").status_code == 400  # cookie, no token
    assert browser_client.post(f"/jobs/{done.id}/delete").status_code == 400
    assert browser_client.get(f"/api/jobs/{done.id}").status_code == 200
    response = browser_client.post(f"/jobs/{done.id}/delete", data={"csrf_token": csrf_of(browser_client)})
    assert response.status_code == 303 and response.headers["Location"].endswith("/jobs")
    mine = browser_client.get("/jobs").get_data(as_text=True)
    assert "street.mp4 and everything made from it were deleted." in mine
    assert not output_dir(settings, done.id).exists()
    api = browser_client.delete(f"/api/jobs/{done.id}", headers={"X-CSRF-Token": csrf_of(browser_client)})
    assert api.status_code == 404


def test_an_expired_job_says_so_in_its_page_the_api_and_its_files(
        app: Flask, store: JobStore, settings, finished_job: Callable[..., Job]) -> None:
    done = finished_job()
    client = app.test_client()
    body = client.get(f"/api/jobs/{done.id}").get_json()
    expires = datetime.fromisoformat(body["expires_at"])
    assert expires == done.finished_at + timedelta(days=settings.retention_days)
    page = client.get(f"/jobs/{done.id}").get_data(as_text=True)
    assert "kept until" in page and expires.date().isoformat() in page
    assert sweep(store, settings, now=expires + timedelta(seconds=1)).expired == [done.id]
    gone = client.get(f"/jobs/{done.id}")
    text = gone.get_data(as_text=True)
    assert gone.status_code == 410 and "This job has expired" in text and "30 days after it finished" in text
    api = client.get(f"/api/jobs/{done.id}")
    assert api.status_code == 410 and "expired" in api.get_json()["error"]
    assert client.get(f"/jobs/{done.id}/files/keypoints.csv").status_code == 410
    assert client.get(f"/jobs/{'x' * 32}").status_code == 404  # never existed: still "not found"


def test_a_retry_whose_upload_was_deleted_says_so(app: Flask, store: JobStore, settings) -> None:
    job = store.create_job(source_name="gone.mp4", options={}, owner=None, source_meta={})
    store.mark_failed(job.id, error="the decoder gave up")
    admin = app.test_client()
    response = admin.post(f"/admin/jobs/{job.id}/retry", data={"csrf_token": csrf_of(admin)}, follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "cannot be retried: its uploaded video is no longer kept" in text and "gone.mp4" in text
    assert store.get(job.id).state is JobState.FAILED and store.get(job.id).attempts == 1


def test_job_json_says_what_is_kept(app: Flask, store: JobStore, settings, sample_video: Path) -> None:
    client = app.test_client()
    created = client.post("/api/jobs", data={"video": (io.BytesIO(sample_video.read_bytes()), "a.mp4"),
                                             "keypoints_only": "true"})
    job = client.get(created.get_json()["api_url"]).get_json()
    assert job["upload_kept"] is True and job["expires_at"] is None  # not finished yet
    assert job["options"]["keypoints_only"] is True and job["options"]["net_height"] == "auto"


def _jobs(store: JobStore, settings, count: int, name: str, state: str) -> list[Job]:
    made = []
    for i in range(count):
        job = store.create_job(source_name=f"{name}-{i:02d}.mp4", options={}, owner=None, source_meta={})
        claim = store.mark_running(job.id, worker="node-1@host").claim
        if state == "succeeded":
            store.mark_succeeded(job.id, outputs={}, timings={"warnings": ["ends early"]}, claim=claim)
        elif state == "failed":
            store.mark_failed(job.id, error=f"reason {i}", claim=claim)
        made.append(_with_upload(settings, store.get(job.id)))
    return made


def test_admin_filters_searches_pages_and_deletes_finished_jobs_in_bulk(app: Flask, store: JobStore, settings) -> None:
    done = _jobs(store, settings, 55, "walk", "succeeded")
    failed = _jobs(store, settings, 3, "jump", "failed")
    running = _jobs(store, settings, 1, "run", "running")
    admin = app.test_client()
    first = admin.get("/admin/").get_data(as_text=True)
    assert "Jobs (59)" in first and "Page 1 of 2" in first and "jobs 1–50 of 59" in first
    assert "run-00.mp4" in first and "walk-04.mp4" not in first  # newest first
    second = admin.get("/admin/?page=2").get_data(as_text=True)
    assert "walk-00.mp4" in second and "Page 2 of 2" in second
    only_failed = admin.get("/admin/?state=failed").get_data(as_text=True)
    assert "Jobs (3 matching)" in only_failed and "reason 2" in only_failed and "walk-" not in only_failed
    search = admin.get("/admin/?q=WALK-1").get_data(as_text=True)
    assert "Jobs (10 matching)" in search and "walk-10.mp4" in search and "jump" not in search
    assert "ends early" in search  # warnings are shown
    assert admin.get("/admin/?state=sleeping").status_code == 400
    assert "storage-title" in first and "deleted with their files" in first and "30 days" in first

    token = csrf_of(admin)
    chosen = [done[0].id, failed[0].id, running[0].id]
    response = admin.post("/admin/jobs/delete", data={"csrf_token": token, "job_id": chosen,
                                                      "back": "/admin/?state=failed"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/?state=failed")
    text = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 finished jobs deleted with their files. 1 not deleted: still queued or running" in text
    assert store.get(running[0].id).state is JobState.RUNNING
    assert len(store.list_jobs(limit=1000)) == 57
    assert not output_dir(settings, done[0].id).exists() and not upload_path(settings, failed[0].id).exists()
    assert admin.post("/admin/jobs/delete", data={"job_id": chosen}).status_code == 400  # no token
    evil = admin.post("/admin/jobs/delete", data={"csrf_token": token, "job_id": [done[1].id],
                                                  "back": "//evil.example/admin/"})
    assert evil.headers["Location"] == "/admin/"


def test_admin_answers_with_the_reason_while_the_broker_is_down(tmp_path: Path) -> None:
    app = create_app({"SETTINGS": make_settings(tmp_path, broker_url="redis://127.0.0.1:1/0"), "TESTING": True})
    app.extensions["posestudio"].store.create_job(source_name="a.mp4", options={}, owner=None, source_meta={})
    page = app.test_client().get("/admin/").get_data(as_text=True)
    assert "The job queue (broker) is not reachable" in page and "a.mp4" in page
    assert "127.0.0.1:1" not in page
    app.extensions["posestudio.views"].broker.refresh()  # (the admin page above started one too)
    metrics = app.test_client().get("/metrics").get_data(as_text=True)
    assert "posestudio_broker_up 0.0" in metrics and "posestudio_workers_online 0.0" in metrics
    assert "posestudio_queue_length 1.0" in metrics  # from the job database while the broker is down

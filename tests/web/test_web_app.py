"""The app factory: configuration from the environment by default, isolated folders in tests."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import create_app


def test_create_app_reads_settings_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL", "SECRET_KEY", "ADMIN_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("POSESTUDIO_INSTANCE_DIR", str(tmp_path / "inst"))
    monkeypatch.setenv("POSESTUDIO_UPLOADS_DIR", str(tmp_path / "up"))
    monkeypatch.setenv("POSESTUDIO_OUTPUTS_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("MAX_UPLOAD_MB", "7")
    app = create_app()
    settings = app.extensions["posestudio"].settings
    assert settings.uploads_dir == tmp_path / "up" and (tmp_path / "out").is_dir()
    assert app.config["MAX_CONTENT_LENGTH"] == 7 * 1024**2
    # No SECRET_KEY: a random one is created once in the instance folder and reused.
    assert app.secret_key == (tmp_path / "inst" / "secret_key").read_text().strip()
    assert create_app().secret_key == app.secret_key
    assert app.extensions["posestudio"].store.database_url.endswith("inst/posestudio.sqlite3")
    page = app.test_client().get("/")
    assert page.status_code == 200 and "Up to 7 MB per file" in page.get_data(as_text=True)


def test_every_response_forbids_sniffing_and_framing(app, finished_job) -> None:
    job = finished_job()
    client = app.test_client()
    responses = [client.get("/"), client.get("/admin/"), client.get("/api/jobs/nope"),
                 client.get(f"/jobs/{job.id}/files/keypoints.json"), client.get("/static/job.js")]
    for response in responses:
        assert response.headers["X-Content-Type-Options"] == "nosniff", response.request.path
        assert response.headers["X-Frame-Options"] == "DENY", response.request.path
        assert response.headers["Referrer-Policy"] == "same-origin", response.request.path
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy, response.request.path
        assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy, response.request.path


def test_pages_carry_no_inline_script_style_or_handler(app, store, finished_job) -> None:
    """The CSP forbids inline code, so a page that had some would silently lose it in a browser."""
    done = finished_job()
    running = store.create_job(source_name="<b>x</b>.mp4", options={}, owner=None, source_meta={})
    client = app.test_client()
    for path in ("/", "/jobs", f"/jobs/{done.id}", f"/jobs/{running.id}", "/admin/", "/jobs/nope"):
        html = client.get(path).get_data(as_text=True)
        assert "<script" in html or path in ("/jobs", "/jobs/nope"), path  # the pages under test have scripts
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"<style\b|\sstyle=", html), path
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert "<b>x</b>" not in html, path


def test_a_running_job_without_heartbeat_is_shown_as_stalled(app, store) -> None:
    """A worker killed with its whole host leaves its job 'running' until another worker sweeps;
    meanwhile the job page, the API and the admin page say so instead of showing a frozen bar."""
    from datetime import datetime, timedelta, timezone

    import sqlalchemy as sa

    job = store.create_job(source_name="clip.mp4", options={}, owner=None, source_meta={})
    store.mark_running(job.id, worker="celery@gone")
    client = app.test_client()
    assert client.get(f"/api/jobs/{job.id}").get_json()["stalled"] is False
    assert re.search(r'id="job-stalled"\s+hidden', client.get(f"/jobs/{job.id}").get_data(as_text=True))

    old = datetime.now(timezone.utc) - timedelta(seconds=app.extensions["posestudio"].settings.job_stale_after_s + 5)
    with store._engine.begin() as conn:
        conn.execute(sa.text("UPDATE posestudio_jobs SET heartbeat_at = :t WHERE id = :i"),
                     {"t": old.replace(tzinfo=None), "i": job.id})
    assert client.get(f"/api/jobs/{job.id}").get_json()["stalled"] is True
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert 'id="job-stalled"' in page and not re.search(r'id="job-stalled"\s+hidden', page)
    assert "no heartbeat" in client.get("/admin/").get_data(as_text=True)
    # Asked to cancel before the worker died: the button is offered again, not stuck "Cancelling".
    store._guarded(job.id, None, dict(cancel_requested=True))
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert re.search(r'id="cancel-button"\s*>Cancel job<', page), page[page.find("cancel-button"):][:200]
    # Cancelling it takes effect at once: there is no worker to see a cancel flag.
    assert app.test_client().post(f"/api/jobs/{job.id}/cancel").get_json()["state"] == "cancelled"  # a script


def test_a_finished_job_shows_what_it_did_and_its_warnings(app, store) -> None:
    """A truncated upload succeeds with the frames that decode; the page must say so, not hide it."""
    job = store.create_job(source_name="cut.mp4", options={}, owner=None, source_meta={})
    claim = store.mark_running(job.id, worker="w").claim
    warning = "cut.mp4: 2 damaged packet(s) skipped; the file ends early (truncated)"
    assert store.mark_succeeded(job.id, outputs={}, claim=claim, timings={
        "frames_processed": 120, "tracks": 3, "detections": 300, "elapsed_s": 10.0, "fps": 12.0,
        "warnings": [warning], "network_input": {"width": 624, "height": 464, "auto": {
            "net_height": 464, "sampled_frames": 12, "people": 40, "median_person_px": 51.1}}})
    client = app.test_client()
    data = client.get(f"/api/jobs/{job.id}").get_json()
    assert data["summary"] == {"frames": 120, "people": 3, "detections": 300, "processing_s": 10.0, "fps": 12.0,
                               "network_input": {"width": 624, "height": 464, "auto": {
                                   "net_height": 464, "sampled_frames": 12, "people": 40, "median_person_px": 51.1}}}
    assert data["warnings"] == [warning]
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert re.search(r"<strong>3</strong> people tracked over\s+<strong>120</strong> frames", page)
    assert "Finished with warnings" in page and "the file ends early (truncated)" in page
    assert re.search(r"network input <span id=\"network-input\">624×464</span> \(auto: people about\s+51 px tall at 368\)", page)
    queued = store.create_job(source_name="q.mp4", options={}, owner=None, source_meta={})
    assert client.get(f"/api/jobs/{queued.id}").get_json()["summary"] is None
    assert 'id="job-summary"' not in client.get(f"/jobs/{queued.id}").get_data(as_text=True)


def test_the_app_has_its_icon_on_every_page(app, store) -> None:
    """favicon.ico was a 404 on every page."""
    client = app.test_client()
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    assert icon.data[:4] == b"\0\0\1\0"  # an ICO file's header
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    for path in ("/", "/live", "/jobs/nope"):  # pages and error pages link both
        page = client.get(path).get_data(as_text=True)
        assert 'rel="icon" href="/static/favicon.svg"' in page and 'href="/favicon.ico"' in page, path

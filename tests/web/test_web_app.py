"""The app factory: configuration from the environment by default, isolated folders in tests."""
from __future__ import annotations

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

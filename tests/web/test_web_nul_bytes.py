"""A NUL byte where the web app takes text, on SQLite and on PostgreSQL (a schema of this test's
own): an id that no job can have is a 404 on every job address before any query (it was a 500
on PostgreSQL, whose text cannot hold NUL: psycopg.DataError), a file name is a 404, and an
upload whose file name holds one is accepted (the name stored with U+FFFD)."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from app import create_app
from web_helpers import make_settings

from pg_schemas import own_schema, schema_url

NUL_ID = "a%00b"
JOB_ADDRESSES = [("GET", "/api/jobs/{id}"), ("DELETE", "/api/jobs/{id}"), ("POST", "/api/jobs/{id}/cancel"),
                 ("GET", "/api/jobs/{id}/people"), ("GET", "/api/jobs/{id}/people/1"),
                 ("GET", "/api/jobs/{id}/screenshots"), ("GET", "/jobs/{id}"), ("GET", "/jobs/{id}/download.zip"),
                 ("GET", "/jobs/{id}/files/keypoints.csv"), ("POST", "/jobs/{id}/cancel"),
                 ("POST", "/jobs/{id}/delete"), ("POST", "/admin/jobs/{id}/cancel"),
                 ("POST", "/admin/jobs/{id}/retry"), ("POST", "/admin/jobs/{id}/delete")]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request) -> str | None:
    if request.param == "sqlite":
        yield None
        return
    with own_schema("web_nul") as schema:
        yield schema_url(schema)


def test_nul_bytes_in_ids_names_and_file_names(tmp_path: Path, database_url: str | None, sample_video: Path) -> None:
    app = create_app({"SETTINGS": make_settings(tmp_path, database_url=database_url), "TESTING": True})
    client = app.test_client()
    for method, address in JOB_ADDRESSES:
        response = client.open(address.format(id=NUL_ID), method=method)
        assert response.status_code == 404, (method, address, response.status_code)
        message = response.get_json()["error"] if response.is_json else response.get_data(as_text=True)
        assert "There is no job with id" in message and "\\x00" in message, message
    video = sample_video.read_bytes()
    created = client.post("/api/jobs", data={"video": (io.BytesIO(video), "clip\x00.mp4")})
    assert created.status_code == 202, created.get_data(as_text=True)
    job = client.get(created.get_json()["api_url"]).get_json()
    assert job["source_name"] == "clip\ufffd.mp4"
    assert client.get(f"/jobs/{job['id']}/files/a%00b.csv").status_code == 404
    assert client.get("/api/jobs/" + "a" * 65).status_code == 404  # longer than any id

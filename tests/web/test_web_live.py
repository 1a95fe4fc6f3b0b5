"""The web app's live API and page against the real live server (a ``posestudio live`` process with
the real model): frames pass through to it and its answers come back; the page; every refusal with
its status and message: a frame over the limit (413, before it is passed on), not an image (400),
every session in use (503), the live server down or turned off (503 saying so), CSRF and
cross-site rules as for every other request. Bodies are checked against the OpenAPI document."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask
from jsonschema import Draft202012Validator

from app import create_app
from config import LiveSettings
from web.openapi_spec import openapi_document
from web_helpers import csrf_of, live_process_module, make_settings

pytestmark = pytest.mark.model
LiveProcess = live_process_module().LiveProcess
clip_frames = live_process_module().clip_frames
DEAD_URL = "http://127.0.0.1:9"  # the discard port: nothing listens there


@pytest.fixture(scope="module")
def live_server(tmp_path_factory, model_path: Path) -> Iterator:
    log = tmp_path_factory.mktemp("web-live") / "live.log"
    with LiveProcess(log, model_path, LIVE_SESSIONS="1", LIVE_IDLE_TIMEOUT_S="2") as live:
        yield live


def live_app(tmp_path: Path, url: str, **live: object) -> Flask:
    settings = make_settings(tmp_path, live=LiveSettings(url=url, **{"sessions": 1, "idle_timeout_s": 2.0,
                                                                     "max_frame_bytes": 256 * 1024, **live}))
    return create_app({"SETTINGS": settings, "TESTING": True})


@pytest.fixture(scope="module")
def frame(videos_dir: Path) -> bytes:
    return clip_frames(videos_dir / "sports2d_demo.mp4", count=1, start=30)[0]


def schema_check(response, name: str) -> dict:
    doc = openapi_document()
    schema = {**doc["components"]["schemas"][name], "components": doc["components"]}
    body = response.get_json()
    Draft202012Validator(schema).validate(body)  # "#/components/..." resolves within ``schema``
    return body


def test_frames_pass_through_to_the_live_server_and_back(tmp_path: Path, live_server, frame: bytes) -> None:
    client = live_app(tmp_path, live_server.url).test_client()
    page = client.get("/live")
    assert page.status_code == 200 and b'id="start"' in page.data and b'id="live-status"' in page.data
    token = csrf_of(client)
    status = schema_check(client.get("/api/live/status"), "LiveStatus")
    assert [m["name"] for m in status["models"]] == ["openpose", "blazepose"]
    created = client.post("/api/live/sessions", json={"model": "openpose"}, headers={"X-CSRF-Token": token})
    assert created.status_code == 201
    session = schema_check(created, "LiveSession")["id"]
    answer = client.post(f"/api/live/sessions/{session}/frames", data=frame, content_type="image/jpeg",
                         headers={"X-CSRF-Token": token})
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    body = schema_check(answer, "LiveFrame")
    assert body["people"] and body["people"][0]["id"] == 1 and (body["width"], body["height"]) == (640, 360)

    # A second session while the only slot is taken: 503, with the live server's words.
    full = client.post("/api/live/sessions", json={}, headers={"X-CSRF-Token": token})
    assert full.status_code == 503 and "All 1 live session is in use" in schema_check(full, "Error")["error"]
    assert full.headers["Retry-After"]

    # Bad frames: not an image (the live server's 400, passed on), too large (413 here, before it
    # is passed on), an unknown session (404); the cookie without the token, another site (403).
    bad = client.post(f"/api/live/sessions/{session}/frames", data=b"GIF89a....", content_type="image/jpeg",
                      headers={"X-CSRF-Token": token})
    assert bad.status_code == 400 and "not a JPEG" in schema_check(bad, "Error")["error"]
    big = client.post(f"/api/live/sessions/{session}/frames", data=b"\xff\xd8" + b"\0" * (300 * 1024),
                      content_type="image/jpeg", headers={"X-CSRF-Token": token})
    assert big.status_code == 413 and "LIVE_MAX_FRAME_KB" in schema_check(big, "Error")["error"]
    assert client.post(f"/api/live/sessions/{'0' * 32}/frames", data=frame, content_type="image/jpeg",
                       headers={"X-CSRF-Token": token}).status_code == 404
    assert client.post("/api/live/sessions/nonsense/frames", data=frame,
                       headers={"X-CSRF-Token": token}).status_code == 404
    assert client.post(f"/api/live/sessions/{session}/frames", data=frame).status_code == 400  # no token
    cross = client.post(f"/api/live/sessions/{session}/frames", data=frame, headers={
        "X-CSRF-Token": token, "Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"})
    assert cross.status_code == 403

    closed = client.delete(f"/api/live/sessions/{session}", headers={"X-CSRF-Token": token})
    assert closed.status_code == 204 and not closed.data
    assert client.delete(f"/api/live/sessions/{session}", headers={"X-CSRF-Token": token}).status_code == 404
    assert live_server.status()["sessions"]["open"] == 0


def test_a_live_session_belongs_to_the_browser_that_opened_it(tmp_path: Path, live_server, frame: bytes) -> None:
    """Another browser (or a script without the cookie) can neither send frames to a session nor
    end it, even knowing its id: for them it does not exist (404). It ended others' sessions (204)."""
    app = live_app(tmp_path, live_server.url)
    mine, other, script = app.test_client(), app.test_client(), app.test_client()
    token, other_token = csrf_of(mine), csrf_of(other)
    session = mine.post("/api/live/sessions", json={}, headers={"X-CSRF-Token": token}).get_json()["id"]
    try:
        for client, headers in ((other, {"X-CSRF-Token": other_token}), (script, {})):
            sent = client.post(f"/api/live/sessions/{session}/frames", data=frame, content_type="image/jpeg",
                               headers=headers)
            assert sent.status_code == 404 and "ended" in schema_check(sent, "Error")["error"]
            assert client.delete(f"/api/live/sessions/{session}", headers=headers).status_code == 404
        assert live_server.status()["sessions"]["open"] == 1
        assert mine.post(f"/api/live/sessions/{session}/frames", data=frame, content_type="image/jpeg",
                         headers={"X-CSRF-Token": token}).status_code == 200
    finally:
        assert mine.delete(f"/api/live/sessions/{session}", headers={"X-CSRF-Token": token}).status_code == 204


def test_live_server_down_is_a_503_that_says_so(tmp_path: Path, frame: bytes) -> None:
    app = live_app(tmp_path, DEAD_URL)
    assert app.test_client().get("/live").status_code == 200  # the page works, and says so (browser test)
    script = app.test_client  # no cookie, as curl
    for response in (script().get("/api/live/status"), script().post("/api/live/sessions", json={}),
                     script().post(f"/api/live/sessions/{'a' * 32}/frames", data=frame, content_type="image/jpeg"),
                     script().delete(f"/api/live/sessions/{'a' * 32}")):
        assert response.status_code == 503
        assert "live pose server is not running or not reachable" in schema_check(response, "Error")["error"]


def test_live_turned_off_is_a_503_that_says_so(tmp_path: Path) -> None:
    client = live_app(tmp_path, DEAD_URL, sessions=0).test_client()
    assert b'data-enabled="false"' in client.get("/live").data
    response = client.get("/api/live/status")
    assert response.status_code == 503 and "LIVE_SESSIONS=0" in response.get_json()["error"]

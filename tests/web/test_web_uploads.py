"""Uploads through the JSON API and the plain form: good files become queued jobs; every bad
input gets a clear message and the right status, leaves nothing behind and breaks nothing."""
from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from config import Settings
from jobs import JobState, JobStore, upload_path
from web_helpers import csrf_of, gunicorn_server, make_settings


def _post(client: FlaskClient, data: bytes | None, name: str = "clip.mp4", **fields):
    body = dict(fields)
    if data is not None:
        body["video"] = (io.BytesIO(data), name)
    return client.post("/api/jobs", data=body, content_type="multipart/form-data")


def _leftovers(settings: Settings) -> list[Path]:
    return [p for p in settings.uploads_dir.rglob("*") if p.is_file()]


def _broker_messages(settings: Settings) -> list[Path]:
    return list((settings.instance_dir / "broker" / "queue").glob("*"))


def test_anonymous_script_upload_becomes_a_queued_job(app: Flask, store: JobStore, settings: Settings,
                                                      sample_video: Path) -> None:
    response = _post(app.test_client(), sample_video.read_bytes(), "my clip.mp4",
                     net_height="256", screenshot_interval_s="1", skeleton_only="true", max_people="3")
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    job_id = body["id"]
    assert len(job_id) == 32 and body["url"].endswith(f"/jobs/{job_id}")
    job = store.get(job_id)
    assert job.state == JobState.QUEUED and job.source_name == "my clip.mp4" and job.owner is None
    assert job.options["net_height"] == 256 and job.options["skeleton_only"] is True
    assert job.options["max_people"] == 3 and job.source_meta["width"] == 960
    stored = upload_path(settings, job_id)
    assert stored.read_bytes() == sample_video.read_bytes()
    assert _leftovers(settings) == [stored]  # nothing left in .incoming
    assert len(_broker_messages(settings)) == 1  # really enqueued on the embedded broker
    status = app.test_client().get(f"/api/jobs/{job_id}").get_json()
    assert status["state"] == "queued" and status["progress"] == 0 and status["outputs"] is None


@pytest.mark.parametrize("kind, status, words", [
    ("not-a-video", 422, "not a video"),
    ("empty", 422, "empty"),
    ("truncated", 422, "truncated"),
    ("missing-field", 400, "No video was sent"),
    ("bad-option", 400, "net_height"),
    ("unknown-option", 400, "unknown option"),
    ("model-not-installed", 400, "openpose/pose/mpi"),
])
def test_bad_upload_is_refused_clearly_and_leaves_nothing(
        app: Flask, store: JobStore, settings: Settings, sample_video: Path,
        kind: str, status: int, words: str) -> None:
    good = _post(app.test_client(), sample_video.read_bytes()).get_json()["id"]
    video = sample_video.read_bytes()
    data, fields = {
        "not-a-video": (b"This is a text file, not a video.\n" * 2000, {}),
        "empty": (b"", {}),
        "truncated": (video[: len(video) // 2], {}),
        "missing-field": (None, {"net_height": "368"}),
        "bad-option": (video, {"net_height": "100"}),
        "unknown-option": (video, {"colour": "red"}),
        "model-not-installed": (video, {"model": "openpose-caffe-mpi"}),  # files not here: where they go
    }[kind]
    response = _post(app.test_client(), data, "holiday.mp4", **fields)
    assert response.status_code == status
    message = response.get_json()["error"]
    assert words.lower() in message.lower()
    if kind in ("not-a-video", "empty", "truncated"):
        assert "holiday.mp4" in message  # the name the person knows, not our storage name
    # Nothing else lost, nothing left behind, the server keeps serving.
    assert [j.id for j in store.list_jobs()] == [good]
    assert _leftovers(settings) == [upload_path(settings, good)]
    assert app.test_client().get("/").status_code == 200
    assert app.test_client().get(f"/api/jobs/{good}").get_json()["state"] == "queued"


def test_upload_over_the_limit_gets_a_friendly_413(tmp_path: Path, sample_video: Path) -> None:
    settings = make_settings(tmp_path, max_upload_bytes=64 * 1024)
    app = create_app({"SETTINGS": settings, "TESTING": True})
    response = _post(app.test_client(), sample_video.read_bytes())  # ~200 KB
    assert response.status_code == 413
    assert "64 KB" in response.get_json()["error"] or "65,536 bytes" in response.get_json()["error"]
    page = app.test_client().post("/", data={"video": (io.BytesIO(sample_video.read_bytes()), "a.mp4")})
    assert page.status_code == 413 and "text/html" in page.content_type
    assert "too large" in page.get_data(as_text=True)
    assert _leftovers(settings) == []
    assert app.test_client().get("/").status_code == 200
    # A file under the limit still goes through afterwards.
    small = _post(app.test_client(), b"tiny but not a video")
    assert small.status_code == 422


def test_form_upload_of_several_files_without_javascript(browser_client: FlaskClient, store: JobStore,
                                                         sample_video: Path) -> None:
    data = sample_video.read_bytes()
    response = browser_client.post("/", data={
        "csrf_token": csrf_of(browser_client),
        "video": [(io.BytesIO(data), "one.mp4"), (io.BytesIO(data), "two.mp4")],
        "screenshot_interval_s": "2",
    }, content_type="multipart/form-data")
    assert response.status_code == 303 and response.headers["Location"].endswith("/jobs")
    jobs = store.list_jobs()
    assert sorted(j.source_name for j in jobs) == ["one.mp4", "two.mp4"]
    assert all(j.owner for j in jobs) and len({j.owner for j in jobs}) == 1
    page = browser_client.get("/jobs").get_data(as_text=True)
    assert "one.mp4" in page and "two.mp4" in page


def test_form_upload_error_is_shown_on_the_upload_page(browser_client: FlaskClient) -> None:
    response = browser_client.post("/", data={
        "csrf_token": csrf_of(browser_client),
        "video": (io.BytesIO(b"\x00" * 1000), "broken.mp4"),
    }, content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and "broken.mp4" in page and 'id="upload-form"' in page


def test_unreachable_queue_fails_the_job_with_a_reason(tmp_path: Path, sample_video: Path) -> None:
    # A broker URL nothing listens on (port 1 on loopback): the real Celery enqueue fails fast.
    settings = make_settings(tmp_path, broker_url="redis://127.0.0.1:1/0")
    app = create_app({"SETTINGS": settings, "TESTING": True})
    store = app.extensions["posestudio"].store
    response = _post(app.test_client(), sample_video.read_bytes(), "late.mp4")
    assert response.status_code == 503
    assert "job queue could not be reached" in response.get_json()["error"]
    [job] = store.list_jobs()
    assert job.state == JobState.FAILED and "job queue could not be reached" in job.error
    # The broker's address (or a path of the embedded queue) is the server's business, not the page's.
    assert "127.0.0.1:1" not in response.get_json()["error"] and "127.0.0.1:1" not in job.error
    assert app.test_client().get("/").status_code == 200


def test_interrupted_upload_leaves_no_partial_file(app: Flask, settings: Settings, store: JobStore,
                                                   sample_video: Path) -> None:
    boundary = "b0undary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"video\"; filename=\"cut.mp4\"\r\n"
            "Content-Type: video/mp4\r\n\r\n").encode()
    sent = head + sample_video.read_bytes()[:100_000]  # the connection drops here
    response = app.test_client().post(
        "/api/jobs", input_stream=io.BytesIO(sent), content_length=len(sent) + 500_000,
        content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 400
    assert _leftovers(settings) == [] and store.list_jobs() == []
    assert app.test_client().get("/").status_code == 200


def test_stale_partial_uploads_are_removed_at_start(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    incoming = settings.uploads_dir / ".incoming"
    incoming.mkdir(parents=True)
    old, fresh = incoming / "part-old.upload", incoming / "part-new.upload"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")  # may belong to an upload in progress in another web process
    os.utime(old, (time.time() - 2 * 86400,) * 2)
    create_app({"SETTINGS": settings, "TESTING": True})
    assert not old.exists() and fresh.exists()


def _send_whole_body_then_read(port: int, path: str, size: int) -> tuple[int, bytes]:
    """What a browser's plain form post does: send every byte, then read the answer.
    Returns (bytes of the file that went out, the answer's first bytes)."""
    import socket

    boundary = "b0undary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"video\"; filename=\"huge.mp4\"\r\n"
            "Content-Type: video/mp4\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
               f"Content-Length: {len(head) + size + len(tail)}\r\n\r\n").encode() + head
    sent, chunk = 0, b"\0" * 65536
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        try:
            sock.sendall(request)
            while sent < size:
                sent += sock.send(chunk[: size - sent])
            sock.sendall(tail)
            return sent, sock.recv(4096)
        except OSError:  # reset by the server: a browser shows "connection reset" here
            return sent, b""


def test_over_limit_form_post_to_gunicorn_gets_the_413_page_not_a_reset(tmp_path: Path) -> None:
    with gunicorn_server(tmp_path, MAX_UPLOAD_MB="1") as port:
        size = 40 * 1024**2  # far more than the socket buffers hold
        for path in ("/", "/api/jobs"):
            sent, answer = _send_whole_body_then_read(port, path, size)
            assert sent == size and answer.startswith(b"HTTP/1.1 413"), (path, sent, answer[:80])
        assert _send_whole_body_then_read(port, "/", 1000)[1].startswith(b"HTTP/1.1 422")


class _Generated(io.RawIOBase):
    """``size`` bytes of a urlencoded form field, made as they are read (never all in memory)."""

    def __init__(self, size: int):
        self.left, self.head = size, b"video="

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.left)
        chunk = (self.head + b"x" * n)[:n]
        self.head = self.head[len(chunk):]
        buffer[:n] = chunk
        self.left -= n
        return n


def test_a_huge_urlencoded_body_is_refused_without_reading_it_into_memory(tmp_path: Path) -> None:
    # Only multipart file parts stream to disk; werkzeug reads any other form body whole into
    # memory, so such a body may be no larger than the text-field limit (1 MiB).
    import tracemalloc

    app = create_app({"SETTINGS": make_settings(tmp_path, max_upload_bytes=512 * 1024**2), "TESTING": True})
    size = 96 * 1024**2
    for path in ("/api/jobs", "/"):
        for declared in (size, None):  # with Content-Length, and streamed without one
            environ = {"wsgi.input": io.BufferedReader(_Generated(size)), "CONTENT_LENGTH": str(declared)}
            if declared is None:
                environ.update(CONTENT_LENGTH="", HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input_terminated": True})
            tracemalloc.start()
            try:
                response = app.test_client().post(
                    path, content_type="application/x-www-form-urlencoded", environ_overrides=environ)
                status = response.status_code
                response.close()
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            # Declared too long: refused unread. Streamed: werkzeug stops reading at the limit
            # (the form is cut there, so the request lacks its video: 400).
            assert status == (413 if declared else 400), (path, declared)
            assert peak < 24 * 1024**2, (path, declared, peak)


def test_form_upload_with_one_bad_file_keeps_the_good_ones_and_says_which_failed(
        browser_client: FlaskClient, store: JobStore, sample_video: Path) -> None:
    data = sample_video.read_bytes()
    response = browser_client.post("/", data={
        "csrf_token": csrf_of(browser_client),
        "video": [(io.BytesIO(b"\x00" * 1000), "broken.mp4"), (io.BytesIO(data), "good.mp4")],
    }, content_type="multipart/form-data")
    assert response.status_code == 303 and response.headers["Location"].endswith("/jobs")
    assert [j.source_name for j in store.list_jobs()] == ["good.mp4"]  # the file after the bad one too
    page = browser_client.get("/jobs").get_data(as_text=True)
    assert "good.mp4" in page and "broken.mp4" in page and "notice-error" in page



def test_many_bad_files_in_one_form_post_keep_the_session_cookie_small(tmp_path: Path, sample_video: Path) -> None:
    app = create_app({"SETTINGS": make_settings(tmp_path, max_upload_bytes=8 * 1024**2, max_files_per_upload=31,
                                                    max_jobs_per_session=31),
                      "TESTING": True})
    store, browser_client = app.extensions["posestudio"].store, app.test_client()
    assert browser_client.get("/").status_code == 200
    bad = [(io.BytesIO(b"\x00" * 1000), os.urandom(100).hex() + ".mp4") for _ in range(30)]  # incompressible
    response = browser_client.post("/", data={
        "csrf_token": csrf_of(browser_client),
        "video": [*bad, (io.BytesIO(sample_video.read_bytes()), "good.mp4")],
    }, content_type="multipart/form-data")
    assert response.status_code == 303 and len(store.list_jobs()) == 1
    cookie = response.headers["Set-Cookie"]
    assert len(cookie) < 4000  # browsers drop bigger cookies, and the session with them
    page = browser_client.get("/jobs").get_data(as_text=True)
    assert "27 more files could not be used" in page


def test_the_upload_form_offers_the_installed_models_only(browser_client: FlaskClient) -> None:
    from pipeline.model_files import installed_models

    page = browser_client.get("/").get_data(as_text=True)
    select = page.split('<select id="model"', 1)[1].split("</select>", 1)[0]
    offered = set(re.findall(r'<option value="([a-z0-9-]+)"', select))
    settings = browser_client.application.extensions["posestudio"].settings
    assert offered == set(installed_models(settings.model_path))
    assert "openpose" in offered and "openpose-caffe-body25" not in offered


def test_a_huge_bad_option_is_not_echoed_back_whole(app: Flask, sample_video: Path) -> None:
    """A 900,000-character start_s came back as a 900 kB 400."""
    refused = app.test_client().post("/api/jobs", data={"video": (io.BytesIO(sample_video.read_bytes()), "a.mp4"),
                                                        "start_s": "1" * 900_000})
    assert refused.status_code == 400 and len(refused.data) < 1000
    assert "start_s must be a finite number" in refused.get_json()["error"]

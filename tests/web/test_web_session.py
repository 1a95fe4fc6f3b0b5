"""Sessions: CSRF on every cookie-bearing change, "My jobs" per browser, cancel, admin access."""
from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import Callable

from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from jobs import Job, JobState, JobStore, output_dir, upload_path
from web_helpers import csrf_of, make_settings


def test_cookie_bearing_post_without_token_is_refused(browser_client: FlaskClient, store: JobStore,
                                                      sample_video: Path) -> None:
    data = sample_video.read_bytes()
    refused = browser_client.post("/api/jobs", data={"video": (io.BytesIO(data), "a.mp4")})
    assert refused.status_code == 400 and "security token" in refused.get_json()["error"]
    wrong = browser_client.post("/api/jobs", data={"video": (io.BytesIO(data), "a.mp4")},
                                headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 400
    form = browser_client.post("/", data={"video": (io.BytesIO(data), "a.mp4")})
    assert form.status_code == 400 and "text/html" in form.content_type
    assert "Reload the page" in form.get_data(as_text=True)
    assert store.list_jobs() == []
    accepted = browser_client.post("/api/jobs", data={"video": (io.BytesIO(data), "a.mp4")},
                                   headers={"X-CSRF-Token": csrf_of(browser_client)})
    assert accepted.status_code == 202
    assert browser_client.get("/").status_code == 200  # still serving


def test_my_jobs_lists_only_this_browsers_jobs_newest_first(app: Flask, sample_video: Path) -> None:
    alice, bob = app.test_client(), app.test_client()
    data = sample_video.read_bytes()
    for client, names in ((alice, ["a1.mp4", "a2.mp4"]), (bob, ["b1.mp4"])):
        token = csrf_of(client)
        for name in names:
            response = client.post("/api/jobs", data={"video": (io.BytesIO(data), name)},
                                   headers={"X-CSRF-Token": token})
            assert response.status_code == 202
    assert [j["source_name"] for j in alice.get("/api/jobs").get_json()["jobs"]] == ["a2.mp4", "a1.mp4"]
    assert [j["source_name"] for j in bob.get("/api/jobs").get_json()["jobs"]] == ["b1.mp4"]
    assert app.test_client().get("/api/jobs").get_json()["jobs"] == []  # a script owns nothing
    page = alice.get("/jobs").get_data(as_text=True)
    assert page.index("a2.mp4") < page.index("a1.mp4") and "b1.mp4" not in page


def test_cancel_from_the_job_page(browser_client: FlaskClient, store: JobStore) -> None:
    job = store.create_job(source_name="a.mp4", options={}, owner=None, source_meta={})
    assert browser_client.post(f"/api/jobs/{job.id}/cancel").status_code == 400  # no token
    assert store.get(job.id).state == JobState.QUEUED
    response = browser_client.post(f"/api/jobs/{job.id}/cancel", headers={"X-CSRF-Token": csrf_of(browser_client)})
    assert response.status_code == 202 and response.get_json()["state"] == "cancelled"
    running = store.create_job(source_name="b.mp4", options={}, owner=None, source_meta={})
    store.mark_running(running.id, worker="w")
    form = browser_client.post(f"/jobs/{running.id}/cancel", data={"csrf_token": csrf_of(browser_client)})
    assert form.status_code == 303 and store.get(running.id).cancel_requested


def test_admin_is_loopback_only_without_password(app: Flask) -> None:
    assert app.test_client().get("/admin/").status_code == 200  # test client is 127.0.0.1
    remote = app.test_client().get("/admin/", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert remote.status_code == 403 and "ADMIN_PASSWORD" in remote.get_data(as_text=True)


def test_admin_with_password_needs_http_basic(tmp_path: Path) -> None:
    app = create_app({"SETTINGS": make_settings(tmp_path, admin_password="s3cret"), "TESTING": True})
    client = app.test_client()
    remote = {"REMOTE_ADDR": "203.0.113.9"}
    denied = client.get("/admin/", environ_base=remote)
    assert denied.status_code == 401 and denied.headers["WWW-Authenticate"].startswith("Basic")
    wrong = base64.b64encode(b"admin:nope").decode()
    assert client.get("/admin/", environ_base=remote, headers={"Authorization": f"Basic {wrong}"}).status_code == 401
    right = base64.b64encode(b"admin:s3cret").decode()
    assert client.get("/admin/", environ_base=remote, headers={"Authorization": f"Basic {right}"}).status_code == 200


def test_admin_retry_and_delete(app: Flask, browser_client: FlaskClient, store: JobStore,
                                finished_job: Callable[..., Job]) -> None:
    settings = app.extensions["posestudio"].settings
    failed = store.create_job(source_name="bad.mp4", options={}, owner=None, source_meta={})
    store.mark_failed(failed.id, error="the decoder gave up")
    upload_path(settings, failed.id).parent.mkdir(parents=True)  # a retry needs the upload
    upload_path(settings, failed.id).write_bytes(b"x")
    page = browser_client.get("/admin/").get_data(as_text=True)
    assert "bad.mp4" in page and "the decoder gave up" in page and 'id="queue-length"' in page
    token = csrf_of(browser_client)
    assert browser_client.post(f"/admin/jobs/{failed.id}/retry").status_code == 400  # no token
    retried = browser_client.post(f"/admin/jobs/{failed.id}/retry", data={"csrf_token": token})
    assert retried.status_code == 303 and store.get(failed.id).state == JobState.QUEUED
    assert store.get(failed.id).attempts == 2
    done = finished_job()
    upload_path(settings, done.id).parent.mkdir(parents=True)
    upload_path(settings, done.id).write_bytes(b"x")
    deleted = browser_client.post(f"/admin/jobs/{done.id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303
    assert not output_dir(settings, done.id).exists() and not upload_path(settings, done.id).exists()
    assert browser_client.get(f"/api/jobs/{done.id}").status_code == 404
    assert store.get(failed.id).state == JobState.QUEUED  # the other job is untouched


def test_admin_changes_need_the_token_even_without_the_session_cookie(tmp_path: Path) -> None:
    # Loopback and HTTP Basic are credentials a browser sends on its own, also on a cross-site
    # form post (which carries no SameSite=Lax cookie): the token must be required regardless.
    for password in (None, "s3cret"):
        app = create_app({"SETTINGS": make_settings(tmp_path / str(password), admin_password=password),
                          "TESTING": True})
        store = app.extensions["posestudio"].store
        job = store.create_job(source_name="a.mp4", options={}, owner=None, source_meta={})
        auth = {"Authorization": "Basic " + base64.b64encode(b"admin:s3cret").decode()} if password else {}
        forged = app.test_client()  # no cookie: what a page on another site makes the browser send
        for action in ("cancel", "retry", "delete"):
            response = forged.post(f"/admin/jobs/{job.id}/{action}", headers=auth)
            assert response.status_code == 400, (password, action)
        assert store.get(job.id).state == JobState.QUEUED and not store.get(job.id).cancel_requested
        admin = app.test_client()
        page = admin.get("/admin/", headers=auth).get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        done = admin.post(f"/admin/jobs/{job.id}/cancel", data={"csrf_token": token}, headers=auth)
        assert done.status_code == 303 and store.get(job.id).state == JobState.CANCELLED


def test_admin_retry_with_the_queue_down_fails_the_job_again_with_a_reason(tmp_path: Path) -> None:
    app = create_app({"SETTINGS": make_settings(tmp_path, broker_url="redis://127.0.0.1:1/0"), "TESTING": True})
    store = app.extensions["posestudio"].store
    job = store.create_job(source_name="a.mp4", options={}, owner=None, source_meta={})
    store.mark_failed(job.id, error="the decoder gave up")
    upload = upload_path(app.extensions["posestudio"].settings, job.id)
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"x")
    admin = app.test_client()
    response = admin.post(f"/admin/jobs/{job.id}/retry", data={"csrf_token": csrf_of(admin)})
    assert response.status_code == 303
    page = admin.get("/admin/").get_data(as_text=True)
    assert "could not be retried: the job queue could not be reached" in page
    failed = store.get(job.id)
    assert failed.state == JobState.FAILED and "job queue could not be reached" in failed.error
    assert "127.0.0.1:1" not in failed.error  # the job page is not the place for the broker's address


def test_admin_through_a_reverse_proxy_on_this_machine_is_not_local(app: Flask) -> None:
    # nginx on the same host connects from 127.0.0.1 for every visitor; it says so in these headers.
    client = app.test_client()
    for header in ({"X-Forwarded-For": "203.0.113.9"}, {"Forwarded": "for=203.0.113.9"},
                   {"X-Real-IP": "203.0.113.9"}):
        response = client.get("/admin/", headers=header)
        assert response.status_code == 403 and "ADMIN_PASSWORD" in response.get_data(as_text=True), header
    assert client.get("/admin/").status_code == 200


def test_loopback_admin_refuses_other_host_names(app: Flask) -> None:
    # DNS rebinding: a page from evil.example re-pointed at 127.0.0.1 reads same-origin responses,
    # so the loopback gate also wants a loopback name in the Host header.
    client = app.test_client()
    for host in ("localhost", "localhost:5000", "127.0.0.1:5000", "[::1]:5000"):
        assert client.get("/admin/", headers={"Host": host}).status_code == 200, host
    for host in ("evil.example:5000", "evil.example", "127.0.0.1.evil.example"):
        assert client.get("/admin/", headers={"Host": host}).status_code == 403, host


# What a browser sends with a form post or fetch made by a page of another origin: another port of
# the same host is "same-site", another host name "cross-site"; an old browser sends only Origin.
FOREIGN_PAGES = [
    {"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"},
    {"Sec-Fetch-Site": "same-site", "Origin": "http://localhost:8001"},
    {"Sec-Fetch-Site": "cross-site", "Origin": "null"},  # a sandboxed frame, a data: URL
    {"Origin": "http://127.0.0.1:5000"},  # no Sec-Fetch-Site: an older browser
    {"Origin": "null"},
]


def test_state_changes_from_another_sites_page_are_refused_cookie_or_not(
        app: Flask, store: JobStore, sample_video: Path) -> None:
    data = sample_video.read_bytes()
    job = store.create_job(source_name="a.mp4", options={}, owner=None, source_meta={})
    store.mark_failed(job.id, error="the decoder gave up")
    queued = store.create_job(source_name="b.mp4", options={}, owner=None, source_meta={})
    with_cookie = app.test_client()
    token = csrf_of(with_cookie)
    for headers in FOREIGN_PAGES:
        for client, extra in ((app.test_client(), {}), (with_cookie, {"csrf_token": token})):
            for path, form in (("/api/jobs", {"video": (io.BytesIO(data), "a.mp4")}),
                               ("/", {"video": (io.BytesIO(data), "a.mp4")}),
                               (f"/api/jobs/{queued.id}/cancel", {}), (f"/jobs/{queued.id}/cancel", {}),
                               (f"/admin/jobs/{queued.id}/cancel", {}), (f"/admin/jobs/{job.id}/retry", {}),
                               (f"/admin/jobs/{job.id}/delete", {})):
                response = client.post(path, data={**form, **extra}, headers=headers)
                assert response.status_code == 403, (headers, path, response.status_code)
                message = response.get_data(as_text=True)
                assert "another site" in message and headers["Origin"] in message, message
    assert sorted(j.id for j in store.list_jobs()) == sorted([queued.id, job.id])
    assert store.get(queued.id).state == JobState.QUEUED and not store.get(queued.id).cancel_requested
    assert store.get(job.id).state == JobState.FAILED
    api = app.test_client().post("/api/jobs", data={"video": (io.BytesIO(data), "a.mp4")},
                                 headers=FOREIGN_PAGES[0])
    assert api.get_json()["status"] == 403 and "evil.example" in api.get_json()["error"]


def test_scripts_and_the_apps_own_pages_still_change_things(app: Flask, store: JobStore,
                                                            sample_video: Path) -> None:
    data = sample_video.read_bytes()
    own_pages = [
        {},  # a script: curl, python requests
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"},  # the upload page's XHR
        {"Sec-Fetch-Site": "none"},  # the person's own navigation (typed address, bookmark)
        {"Origin": "http://localhost"},  # an older browser, on this app's page
        {"Origin": "http://LOCALHOST"},
    ]
    for headers in own_pages:
        response = app.test_client().post("/api/jobs", data={"video": (io.BytesIO(data), "a.mp4")},
                                          headers=headers)
        assert response.status_code == 202, (headers, response.get_json())
    browser = app.test_client()
    form = browser.post("/", data={"video": (io.BytesIO(data), "b.mp4"), "csrf_token": csrf_of(browser)},
                        headers={"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"})
    assert form.status_code == 303
    jobs = store.list_jobs()
    assert len(jobs) == len(own_pages) + 1
    cancel = app.test_client().post(f"/api/jobs/{jobs[0].id}/cancel")
    assert cancel.status_code == 202 and store.get(jobs[0].id).state == JobState.CANCELLED


def test_an_error_page_starts_no_session(app) -> None:
    """A 404 page set a one-year session cookie (its CSRF token); pages that need one still do."""
    client = app.test_client()
    for path in ("/no/such/page", "/jobs/no-such-job"):
        missing = client.get(path)
        assert missing.status_code == 404 and b"<h1" in missing.data and "Set-Cookie" not in missing.headers
    assert "Set-Cookie" in client.get("/").headers

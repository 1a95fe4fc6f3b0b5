"""The API contract (/api/openapi.json) against the code: the document is valid OpenAPI 3.1
(openapi-spec-validator), names every route of the app but its HTML pages, and real requests
produce every documented status code, with JSON bodies that match the documented schemas
(jsonschema, Draft 2020-12, formats checked); a method an address lacks is a 405 naming the
ones it has (Allow); every documented bound of a query parameter is the server's; the live
model enum is the live server's; gunicorn's own 414 and 431 are documented everywhere."""
from __future__ import annotations

import http.client
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

import pytest
from flask import Flask
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from app import create_app
from config import LiveSettings
from jobs import Job, JobStore, output_dir
from jobs.retention import sweep
from live.models import MODELS as LIVE_MODELS
from web_helpers import csrf_of, gunicorn_server, make_settings

#: Endpoints that are pages for people (HTML forms, redirects), not part of the API.
HTML_ENDPOINTS = {"static", "pages.favicon", "pages.upload", "pages.upload_form", "pages.my_jobs", "pages.job",
                  "pages.cancel", "deletion.delete_page", "live.page"}
#: Documented statuses this test cannot produce with Flask's test client, and where they are.
_LIVE_FRAMES, _LIVE_ONE = "/api/live/sessions/{session_id}/frames", "/api/live/sessions/{session_id}"
_WITH_LIVE = "needs the live server (a process with the model): tests/web/test_web_live.py"
PRODUCED_ELSEWHERE = {
    ("/api/jobs", "post", "408"): "needs a real socket: tests/web/test_web_slow_clients.py",
    ("/api/live/status", "get", "200"): _WITH_LIVE,
    ("/api/live/sessions", "post", "201"): _WITH_LIVE,
    (_LIVE_FRAMES, "post", "200"): _WITH_LIVE,
    (_LIVE_ONE, "delete", "204"): _WITH_LIVE,
    (_LIVE_FRAMES, "post", "409"): "two frames of one session at once, at the live server: tests/live/test_live_server.py",
}


def _needs_database(path: str) -> bool:
    """Operations whose 503 (the job database away) test_the_answers_while_the_job_database_is_away_are_documented
    produces, as test_the_answers_on_a_full_disk_are_documented does download.zip's (a full disk)."""
    return "{job_id}" in path or path in ("/api/jobs", "/metrics")


#: gunicorn answers these itself, on every operation: test_gunicorn_limits_are_documented_on_every_operation.
GUNICORN_STATUSES = ("414", "431")

CROSS_SITE = {"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}


def _template(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


@pytest.fixture
def doc(app: Flask) -> dict[str, Any]:
    return app.test_client().get("/api/openapi.json").get_json()


def test_the_document_is_valid_openapi_3_1(doc) -> None:
    assert doc["openapi"] == "3.1.0"
    validate(doc)


def test_every_route_is_documented_and_every_documented_route_exists(app: Flask, doc) -> None:
    routes: set[tuple[str, str]] = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in HTML_ENDPOINTS or rule.endpoint.startswith("admin."):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((_template(rule.rule), method.lower()))
    documented = {(path, method) for path, item in doc["paths"].items()
                  for method in item if method in ("get", "post", "put", "patch", "delete")}
    assert routes - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routes == set(), "documented operations the app does not have"


def test_the_docs_page_renders_the_document_without_scripts(app: Flask, doc) -> None:
    page = app.test_client().get("/api/docs").get_data(as_text=True)
    assert "<script src=\"/static/confirm.js\"" in page and "cdn" not in page.lower()
    assert re.findall(r"<script(?![^>]*src=\"/static/)", page) == []  # only our own files
    for path, item in doc["paths"].items():
        assert f"<code>{path}</code>" in page
    assert 'id="schema-Job"' in page and "keypoints_only" in page


class Contract:
    """Checks responses against the document and remembers which (path, method, status) it saw."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.seen: set[tuple[str, str, str]] = set()
        self.registry = Registry().with_resource("urn:posestudio", Resource.from_contents(
            doc, default_specification=DRAFT202012))

    def check(self, response, path: str, method: str, status: int) -> Any:
        assert response.status_code == status, (path, method, response.status_code, response.get_data(as_text=True)[:300])
        responses = self.doc["paths"][path][method]["responses"]
        assert str(status) in responses, f"{method.upper()} {path} answered {status}, which is not documented"
        self.seen.add((path, method, str(status)))
        content = responses[str(status)].get("content", {})
        if "application/json" in content:
            assert response.mimetype == "application/json", (path, status, response.mimetype)
            schema = _as_ref(content["application/json"]["schema"])
            validator = Draft202012Validator(schema, registry=self.registry,
                                             format_checker=Draft202012Validator.FORMAT_CHECKER)
            errors = sorted(validator.iter_errors(response.get_json()), key=str)
            assert errors == [], f"{method.upper()} {path} {status}: {errors[0].message}"
            return response.get_json()
        if content:
            media = next(iter(content))
            assert media == "*/*" or response.mimetype == media, (path, status, response.mimetype, media)
        return None

    def documented(self) -> set[tuple[str, str, str]]:
        return {(path, method, status) for path, item in self.doc["paths"].items()
                for method, op in item.items() if method != "parameters" for status in op["responses"]}


class _Script:
    """A new client, with no cookie, for every request, as curl is (HTML pages hand one out)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def __getattr__(self, method: str):
        return getattr(self.app.test_client(), method)


def _as_ref(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return {"$ref": "urn:posestudio" + schema["$ref"]}
    return schema


def test_real_responses_match_the_document(app: Flask, doc, store: JobStore, settings, sample_video: Path,
                                           finished_job: Callable[..., Job], tmp_path: Path) -> None:
    c = Contract(doc)
    video = sample_video.read_bytes()
    script, browser = _Script(app), app.test_client()
    token = csrf_of(browser)
    J, ONE = "/api/jobs", "/api/jobs/{job_id}"

    created = c.check(script.post(J, data={"video": (io.BytesIO(video), "a.mp4")}), J, "post", 202)
    c.check(script.post(J, data={}), J, "post", 400)
    # The model option: BlazePose is accepted (and kept in the job's options); an unknown one is a 400.
    blaze = c.check(script.post(J, data={"video": (io.BytesIO(video), "a.mp4"), "model": "blazepose"}), J, "post", 202)
    assert c.check(script.get(blaze["api_url"]), ONE, "get", 200)["options"]["model"] == "blazepose"
    refused = c.check(script.post(J, data={"video": (io.BytesIO(video), "a.mp4"), "model": "alphapose"}), J, "post", 400)
    assert "model must be one of openpose, blazepose" in refused["error"]
    c.check(script.post(J, data={"video": (io.BytesIO(video), "a.mp4")}, headers=CROSS_SITE), J, "post", 403)
    c.check(script.post(J, data={"video": (io.BytesIO(b"\0" * (9 * 1024**2)), "big.mp4")}), J, "post", 413)
    c.check(script.post(J, data={"video": (io.BytesIO(b"not a video at all"), "a.mp4")}), J, "post", 422)

    def refuse(_job_id: str) -> None:
        raise ConnectionError("broker down")
    down = create_app({"SETTINGS": make_settings(tmp_path / "down"), "TESTING": True, "ENQUEUE": refuse})
    c.check(down.test_client().post(J, data={"video": (io.BytesIO(video), "a.mp4")}), J, "post", 503)
    full = _Script(create_app({"SETTINGS": make_settings(tmp_path / "full", max_jobs_per_session=1), "TESTING": True}))
    c.check(full.post(J, data={"video": (io.BytesIO(video), "a.mp4")}), J, "post", 202)
    c.check(full.post(J, data={"video": (io.BytesIO(video), "a.mp4")}), J, "post", 429)

    mine = browser.post(J, data={"video": (io.BytesIO(video), "b.mp4")}, headers={"X-CSRF-Token": token})
    assert mine.status_code == 202
    listed = c.check(browser.get(J), J, "get", 200)
    assert [j["source_name"] for j in listed["jobs"]] == ["b.mp4"]
    c.check(script.get(J), J, "get", 200)

    queued = c.check(script.get(created["api_url"]), ONE, "get", 200)
    assert queued["state"] == "queued" and queued["outputs"] is None
    done = finished_job()
    body = c.check(script.get(f"/api/jobs/{done.id}"), ONE, "get", 200)
    assert body["outputs"]["screenshot_count"] == 2
    c.check(script.get("/api/jobs/nope"), ONE, "get", 404)

    shots = "/api/jobs/{job_id}/screenshots"
    c.check(script.get(f"/api/jobs/{done.id}/screenshots?limit=1"), shots, "get", 200)
    c.check(script.get(f"/api/jobs/{done.id}/screenshots?limit=0"), shots, "get", 400)
    c.check(script.get(f"/api/jobs/{created['id']}/screenshots"), shots, "get", 404)

    files, archive = "/jobs/{job_id}/files/{name}", "/jobs/{job_id}/download.zip"
    whole = c.check(script.get(f"/jobs/{done.id}/files/keypoints.csv"), files, "get", 200)
    first = script.get(f"/jobs/{done.id}/files/annotated.mp4")
    c.check(script.get(f"/jobs/{done.id}/files/annotated.mp4", headers={"Range": "bytes=0-99"}), files, "get", 206)
    c.check(script.get(f"/jobs/{done.id}/files/annotated.mp4", headers={"If-None-Match": first.headers["ETag"]}),
            files, "get", 304)
    c.check(script.get(f"/jobs/{done.id}/files/nothing.txt"), files, "get", 404)
    c.check(script.get(f"/jobs/{done.id}/files/annotated.mp4", headers={"Range": "bytes=999999999-"}), files, "get", 416)
    assert whole is None
    c.check(script.get(f"/jobs/{done.id}/download.zip"), archive, "get", 200)
    zipped = script.get(f"/jobs/{done.id}/download.zip")
    c.check(script.get(f"/jobs/{done.id}/download.zip", headers={"Range": "bytes=0-9"}), archive, "get", 206)
    c.check(script.get(f"/jobs/{done.id}/download.zip", headers={"If-None-Match": zipped.headers["ETag"]}),
            archive, "get", 304)
    c.check(script.get(f"/jobs/{done.id}/download.zip", headers={"Range": "bytes=999999999-"}), archive, "get", 416)
    c.check(script.get(f"/jobs/{created['id']}/download.zip"), archive, "get", 404)

    from people_job import make_people_job
    crowd = make_people_job(store, settings)
    people, person = "/api/jobs/{job_id}/people", "/api/jobs/{job_id}/people/{track_id}"
    c.check(script.get(f"/api/jobs/{crowd.id}/people"), people, "get", 200)
    c.check(script.get("/api/jobs/nope/people"), people, "get", 404)
    series = script.get(f"/api/jobs/{crowd.id}/people/1")
    c.check(series, person, "get", 200)
    c.check(script.get(f"/api/jobs/{crowd.id}/people/1", headers={"If-None-Match": series.headers["ETag"]}),
            person, "get", 304)
    c.check(script.get(f"/api/jobs/{crowd.id}/people/1", headers={"Range": "bytes=0-9"}), person, "get", 206)
    c.check(script.get(f"/api/jobs/{crowd.id}/people/1", headers={"Range": "bytes=999999999-"}), person, "get", 416)
    c.check(script.get(f"/api/jobs/{crowd.id}/people/99"), person, "get", 404)
    reps, facing, report = person + "/reps", person + "/facing", person + "/report.pdf"
    c.check(script.get(f"/api/jobs/{crowd.id}/people/2/report.pdf"), report, "get", 200)
    c.check(script.get(f"/api/jobs/{crowd.id}/people/99/report.pdf"), report, "get", 404)
    c.check(script.get(f"/api/jobs/{crowd.id}/people/1/reps"), reps, "get", 200)
    c.check(script.get(f"/api/jobs/{crowd.id}/people/1/reps?angle=trunk"), reps, "get", 400)
    c.check(script.get(f"/api/jobs/{crowd.id}/people/99/reps"), reps, "get", 404)
    c.check(script.post(f"/api/jobs/{crowd.id}/people/2/facing", json={"facing": "right"}), facing, "post", 200)
    c.check(script.post(f"/api/jobs/{crowd.id}/people/2/facing", json={"facing": "up"}), facing, "post", 400)
    c.check(script.post(f"/api/jobs/{crowd.id}/people/2/facing", json={"facing": "left"}, headers=CROSS_SITE),
            facing, "post", 403)
    c.check(script.post(f"/api/jobs/{crowd.id}/people/99/facing", json={"facing": "left"}), facing, "post", 404)

    cancel = "/api/jobs/{job_id}/cancel"
    c.check(browser.post(f"/api/jobs/{created['id']}/cancel"), cancel, "post", 400)  # cookie, no token
    c.check(script.post(f"/api/jobs/{created['id']}/cancel", headers=CROSS_SITE), cancel, "post", 403)
    c.check(script.post(f"/api/jobs/{created['id']}/cancel"), cancel, "post", 202)
    c.check(script.post("/api/jobs/nope/cancel"), cancel, "post", 404)

    c.check(browser.delete(f"/api/jobs/{created['id']}"), ONE, "delete", 400)
    c.check(script.delete(f"/api/jobs/{created['id']}", headers=CROSS_SITE), ONE, "delete", 403)
    c.check(script.delete(f"/api/jobs/{created['id']}"), ONE, "delete", 204)
    c.check(script.delete(f"/api/jobs/{created['id']}"), ONE, "delete", 404)

    # An expired job: 410 wherever its id is used.
    assert set(sweep(store, settings, now=done.finished_at + timedelta(days=31)).expired) == {done.id, crowd.id}
    c.check(script.get(f"/api/jobs/{crowd.id}/people"), people, "get", 410)
    c.check(script.get(f"/api/jobs/{crowd.id}/people/1"), person, "get", 410)
    c.check(script.get(f"/api/jobs/{crowd.id}/people/1/reps"), reps, "get", 410)
    c.check(script.get(f"/api/jobs/{crowd.id}/people/1/report.pdf"), report, "get", 410)
    c.check(script.post(f"/api/jobs/{crowd.id}/people/1/facing", json={"facing": "left"}), facing, "post", 410)
    c.check(script.get(f"/api/jobs/{done.id}"), ONE, "get", 410)
    c.check(script.delete(f"/api/jobs/{done.id}"), ONE, "delete", 410)
    c.check(script.post(f"/api/jobs/{done.id}/cancel"), cancel, "post", 410)
    c.check(script.get(f"/api/jobs/{done.id}/screenshots"), shots, "get", 410)
    c.check(script.get(f"/jobs/{done.id}/files/keypoints.csv"), files, "get", 410)
    c.check(script.get(f"/jobs/{done.id}/download.zip"), archive, "get", 410)

    c.check(script.get("/api/openapi.json"), "/api/openapi.json", "get", 200)
    c.check(script.get("/api/docs"), "/api/docs", "get", 200)
    c.check(script.get("/livez"), "/livez", "get", 200)
    c.check(script.get("/readyz"), "/readyz", "get", 200)
    broker_down = create_app({"SETTINGS": make_settings(tmp_path / "nobroker", broker_url="redis://127.0.0.1:1/0"),
                              "TESTING": True})
    c.check(broker_down.test_client().get("/readyz"), "/readyz", "get", 503)
    c.check(script.get("/metrics"), "/metrics", "get", 200)
    c.check(script.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}), "/metrics", "get", 403)
    locked = create_app({"SETTINGS": make_settings(tmp_path / "locked", admin_password="s3cret"), "TESTING": True})
    c.check(locked.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}), "/metrics", "get", 401)

    # Live pose, without a live server: down (503), and what the web app refuses itself.
    live_down = create_app({"SETTINGS": make_settings(tmp_path / "nolive", live=LiveSettings(url="http://127.0.0.1:9")),
                            "TESTING": True})
    frames, one, session = "/api/live/sessions/{session_id}/frames", "/api/live/sessions/{session_id}", "a" * 32
    c.check(live_down.test_client().get("/api/live/status"), "/api/live/status", "get", 503)
    c.check(live_down.test_client().post("/api/live/sessions", json={}), "/api/live/sessions", "post", 503)
    c.check(browser.post("/api/live/sessions", json={}), "/api/live/sessions", "post", 400)  # cookie, no token
    c.check(script.post("/api/live/sessions", json={}, headers=CROSS_SITE), "/api/live/sessions", "post", 403)
    c.check(script.post("/api/live/sessions", data=b"{" + b" " * (1024**2 + 1) + b"}", content_type="application/json"),
            "/api/live/sessions", "post", 413)
    jpeg = b"\xff\xd8" + b"\0" * (600 * 1024)
    c.check(live_down.test_client().post(f"/api/live/sessions/{session}/frames", data=b"\xff\xd8"), frames, "post", 503)
    c.check(script.post(f"/api/live/sessions/{session}/frames", data=jpeg), frames, "post", 413)
    c.check(browser.post(f"/api/live/sessions/{session}/frames", data=b"\xff\xd8"), frames, "post", 400)
    c.check(script.post(f"/api/live/sessions/{session}/frames", data=b"\xff\xd8", headers=CROSS_SITE), frames, "post", 403)
    c.check(script.post("/api/live/sessions/not-an-id/frames", data=b"\xff\xd8"), frames, "post", 404)
    c.check(live_down.test_client().delete(f"/api/live/sessions/{session}"), one, "delete", 503)
    c.check(browser.delete(f"/api/live/sessions/{session}"), one, "delete", 400)
    c.check(script.delete(f"/api/live/sessions/{session}", headers=CROSS_SITE), one, "delete", 403)
    c.check(script.delete("/api/live/sessions/not-an-id"), one, "delete", 404)

    missing = {s for s in c.documented() - c.seen - set(PRODUCED_ELSEWHERE)
               if s[2] not in GUNICORN_STATUSES and not (s[2] == "503" and _needs_database(s[0]))}
    assert missing == set(), f"documented but never produced here: {sorted(missing)}"


def _example_path(path: str, job_id: str = "nope") -> str:
    return (path.replace("{job_id}", job_id).replace("{track_id}", "1").replace("{name}", "keypoints.csv")
            .replace("{session_id}", "a" * 32))


def test_a_method_an_address_lacks_is_a_405_naming_the_ones_it_has(app: Flask, doc) -> None:
    client = app.test_client()
    for path, item in doc["paths"].items():
        methods = {m.upper() for m in item if m != "parameters"}
        lacking = next(m for m in ("PUT", "PATCH", "DELETE", "POST") if m not in methods)
        response = client.open(_example_path(path), method=lacking)
        assert response.status_code == 405, (path, lacking, response.status_code)
        allowed = {m.strip() for m in response.headers.get("Allow", "").split(",")}
        assert allowed - {"HEAD", "OPTIONS"} == methods, (path, response.headers.get("Allow"))


def test_every_documented_bound_of_a_query_parameter_is_the_servers(app: Flask, doc,
                                                                    finished_job: Callable[..., Job]) -> None:
    """A bound in the document that the server does not hold (offset was refused above 10^9 but
    documented without a maximum) is a mismatch a generated client trips on."""
    client, done, checked = app.test_client(), finished_job(), 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            for param in [*item.get("parameters", []), *op.get("parameters", [])]:
                schema = param.get("schema", {})
                if param["in"] != "query" or schema.get("type") != "integer":
                    continue
                url = _example_path(path, done.id)
                for bound, outside in (("minimum", -1), ("maximum", 1)):
                    assert bound in schema, f"{path} {param['name']}: no {bound} documented"
                    inside = client.open(f"{url}?{param['name']}={schema[bound]}", method=method)
                    over = client.open(f"{url}?{param['name']}={schema[bound] + outside}", method=method)
                    assert inside.status_code == 200 and over.status_code == 400, (path, param["name"], bound)
                    assert param["name"] in over.get_json()["error"]
                    checked += 1
    assert checked >= 4  # offset and limit, each at both ends


def test_the_live_model_enum_is_the_live_servers(doc) -> None:
    body = doc["paths"]["/api/live/sessions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["model"]["enum"] == list(LIVE_MODELS)


def test_gunicorn_limits_are_documented_on_every_operation(tmp_path: Path, doc) -> None:
    """gunicorn answers an over-long request line (414) or header (431) before the app sees it;
    every operation documents both, and the real gunicorn of `posestudio serve` gives them."""
    with gunicorn_server(tmp_path) as port:
        for path, item in doc["paths"].items():
            for method, op in item.items():
                if method == "parameters":
                    continue
                for status, headers, url in (("414", {}, _example_path(path) + "?x=" + "a" * 5000),
                                             ("431", {"X-Big": "a" * 9000}, _example_path(path))):
                    assert status in op["responses"], (path, method, status)
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    try:
                        conn.request(method.upper(), url, headers=headers)
                        answer = conn.getresponse()
                        answer.read()
                        assert str(answer.status) == status, (path, method, status, answer.status)
                        media = next(iter(op["responses"][status]["content"]))
                        assert answer.getheader("Content-Type", "").startswith(media)
                    finally:
                        conn.close()


#: An address where nothing listens: the job database is away for real (connection refused).
DATABASE_AWAY = "postgresql+psycopg://postgres@127.0.0.1:1/posestudio"


def _request_of(path: str, method: str, video: Path) -> dict[str, Any]:
    if path == "/api/jobs" and method == "post":
        return {"data": {"video": (io.BytesIO(video.read_bytes()), "a.mp4")}}
    if path.endswith("/facing"):
        return {"json": {"facing": "left"}}
    return {}


def test_the_answers_while_the_job_database_is_away_are_documented(doc, tmp_path: Path, sample_video: Path) -> None:
    """Every operation, with the job database unreachable: each answer is a documented status with
    a body of its schema, and every operation that needs the database says so with a 503."""
    c = Contract(doc)
    away = create_app({"SETTINGS": make_settings(tmp_path, database_url=DATABASE_AWAY), "TESTING": True})
    unavailable = set()
    for path, item in doc["paths"].items():
        for method in item:
            if method == "parameters":
                continue
            response = away.test_client().open(_example_path(path), method=method.upper(),
                                               **_request_of(path, method, sample_video))
            c.check(response, path, method, response.status_code)
            if response.status_code == 503 and not path.startswith(("/api/live", "/readyz")):
                assert response.headers["Retry-After"], (path, method)
                unavailable.add((path, method))
    browser = away.test_client()
    csrf_of(browser)  # the upload page works without the database; a session's job list does not
    c.check(browser.get("/api/jobs"), "/api/jobs", "get", 503)
    unavailable.add(("/api/jobs", "get"))
    needs_database = {(path, method) for path, item in doc["paths"].items() for method in item
                      if method != "parameters" and _needs_database(path)}
    assert needs_database - unavailable == set(), "operations that did not say the database is away"


def test_the_answers_on_a_full_disk_are_documented(doc, tmp_path: Path, sample_video: Path) -> None:
    """An upload received on a full uploads disk and a ZIP built on a full outputs disk: 503."""
    from tmpfs import fill, small_disk

    c = Contract(doc)
    settings = make_settings(tmp_path)
    app = create_app({"SETTINGS": settings, "TESTING": True})
    store = app.extensions["posestudio"].store
    job = store.create_job(source_name="a.mp4", options={}, owner=None, source_meta={})
    claim = store.mark_running(job.id, worker="test").claim
    with small_disk(tmp_path / "uploads", "256k") as uploads, small_disk(tmp_path / "outputs", "1m") as outputs:
        out = output_dir(settings, job.id)
        out.mkdir()
        (out / "annotated.mp4").write_bytes(sample_video.read_bytes())
        assert store.mark_succeeded(job.id, outputs={"video": "annotated.mp4"}, timings={}, claim=claim)
        fill(uploads)
        fill(outputs)
        c.check(app.test_client().post("/api/jobs", data={"video": (io.BytesIO(sample_video.read_bytes()), "a.mp4")}),
                "/api/jobs", "post", 503)
        c.check(app.test_client().get(f"/jobs/{job.id}/download.zip"), "/jobs/{job_id}/download.zip", "get", 503)

"""ALLOWED_HOSTS (web.hosts): a request for a host name the operator did not list is a 400 before
anything runs, so a DNS-rebinding page (its Host and Origin agree) creates no job and no live
session, and no returned URL names its host; `posestudio serve` bound to loopback answers
loopback names only when ALLOWED_HOSTS is unset (a real gunicorn, as serve starts it)."""
from __future__ import annotations

import http.client
import io
import os
from pathlib import Path

import pytest

from app import create_app
from config import LiveSettings, Settings, allowed_hosts
from posestudio.commands.serve import web_environment
from web.hosts import LOOPBACK_HOSTS, is_allowed
from web_helpers import gunicorn_server, make_settings

EVIL = "rebind.evil.example"


def hosts_app(tmp_path: Path, hosts: tuple[str, ...]):
    return create_app({"SETTINGS": make_settings(tmp_path, allowed_hosts=hosts,
                                                 live=LiveSettings(url="http://127.0.0.1:9")),
                       "TESTING": True})


def test_a_foreign_host_is_refused_before_anything_runs(tmp_path: Path, videos_dir: Path) -> None:
    app = hosts_app(tmp_path, ("studio.example.org",) + LOOPBACK_HOSTS)
    store, client = app.extensions["posestudio"].store, app.test_client()
    video = (videos_dir / "mmpose_demo.mp4").read_bytes()
    rebinding = {"Host": f"{EVIL}:5000", "Origin": f"http://{EVIL}:5000"}  # they agree: same origin to the browser
    sent = client.post("/api/jobs", data={"video": (io.BytesIO(video), "clip.mp4")},
                       content_type="multipart/form-data", headers=rebinding)
    assert sent.status_code == 400 and EVIL in sent.get_json()["error"] and "ALLOWED_HOSTS" in sent.get_json()["error"]
    assert store.list_jobs() == []
    live = client.post("/api/live/sessions", json={}, headers=rebinding)  # the live server is not even asked
    assert live.status_code == 400 and "ALLOWED_HOSTS" in live.get_json()["error"]
    assert client.get("/api/jobs/a%00b", headers={"Host": EVIL}).status_code == 400  # before the id check
    page = client.get("/", headers={"Host": EVIL})
    assert page.status_code == 400 and b"ALLOWED_HOSTS" in page.data and "Set-Cookie" not in page.headers
    # The operator's names (any port, any case) pass, and the job's URLs use the name asked for.
    for host in ("studio.example.org", "STUDIO.example.org:8443", "localhost:5000", "127.0.0.1", "[::1]:5000"):
        assert client.get("/livez", headers={"Host": host}).status_code == 200, host
    made = client.post("/api/jobs", data={"video": (io.BytesIO(video), "clip.mp4")},
                       content_type="multipart/form-data", headers={"Host": "studio.example.org"})
    assert made.status_code == 202, made.get_json()
    assert made.get_json()["url"].startswith("http://studio.example.org/jobs/")


def test_without_a_list_every_host_is_answered(tmp_path: Path) -> None:
    assert hosts_app(tmp_path, ()).test_client().get("/livez", headers={"Host": EVIL}).status_code == 200


@pytest.mark.parametrize("host, listed, expected", [
    ("a.example.org", (".example.org",), True), ("example.org:80", (".example.org",), True),
    ("evilexample.org", (".example.org",), False), ("example.org.evil.net", ("example.org",), False),
    ("[::1]:5000", ("::1",), True), ("::1", ("[::1]",), True), ("127.0.0.2", LOOPBACK_HOSTS, False),
    ("localhost.", LOOPBACK_HOSTS, True), ("", LOOPBACK_HOSTS, False),
])
def test_host_matching(host: str, listed: tuple[str, ...], expected: bool) -> None:
    assert is_allowed(host, listed) is expected


def test_allowed_hosts_from_the_environment() -> None:
    assert allowed_hosts("Studio.Example.org, 192.0.2.7 [::1]") == ("studio.example.org", "192.0.2.7", "[::1]")
    assert allowed_hosts("") == allowed_hosts("*") == allowed_hosts("a.example, *") == ()
    assert Settings.from_env({"ALLOWED_HOSTS": "studio.example.org"}).allowed_hosts == ("studio.example.org",)
    for bad in ("studio.example.org:5000", "http://studio.example.org", "a@b"):
        with pytest.raises(ValueError, match="ALLOWED_HOSTS"):
            allowed_hosts(bad)


def test_serve_answers_loopback_names_only_when_bound_to_loopback(tmp_path: Path) -> None:
    assert web_environment("0.0.0.0", {})[1] and "ALLOWED_HOSTS" in web_environment("0.0.0.0", {})[1]
    assert web_environment("0.0.0.0", {"ALLOWED_HOSTS": "a.example"}) == ({"ALLOWED_HOSTS": "a.example"}, None)
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL",
                                                            "ALLOWED_HOSTS")}
    env.update(POSESTUDIO_INSTANCE_DIR=str(tmp_path / "instance"), POSESTUDIO_UPLOADS_DIR=str(tmp_path / "up"),
               POSESTUDIO_OUTPUTS_DIR=str(tmp_path / "out"), LIVE_SESSIONS="0")
    env, warning = web_environment("127.0.0.1", env)
    assert warning is None and env["ALLOWED_HOSTS"] == "localhost,127.0.0.1,[::1]"
    with gunicorn_server(tmp_path, env) as port:
        def status(host: str) -> int:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/livez", headers={"Host": host})
            answer = conn.getresponse().status
            conn.close()
            return answer
        assert [status(h) for h in (f"127.0.0.1:{port}", f"localhost:{port}", f"{EVIL}:{port}")] == [200, 200, 400]

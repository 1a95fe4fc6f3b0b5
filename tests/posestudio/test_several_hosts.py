"""The web app and the workers on different "hosts" (issue 18): each host is a process tree of
its own, under a host name of its own (a UTS namespace: ``socket.gethostname()`` differs, so
do Celery's node names) and with an instance folder of its own. They share only what the
deployment guide says they share: the broker (Redis, or RabbitMQ), PostgreSQL, and the uploads and outputs
folders. A job uploaded to the web host goes to one of two worker hosts, which is killed
mid-job (its whole process tree, like a machine losing power); the other worker host's sweeper
finds the orphan and finishes it, and the web host serves the result. Real gunicorn, real Celery
workers, real model, real clip."""
from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import redis
import sqlalchemy as sa

from posestudio.commands.serve import web_command
from serve_process import ROOT, free_port, post_multipart

pytestmark = [pytest.mark.model, pytest.mark.postgres]

REDIS_URL = "redis://127.0.0.1:6379/6"  # a database of its own, emptied by the test
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
CLIP = "mmaction2_test_video_structuralize.mp4"  # 426x240, 29.97 fps, 300 frames


class Host:
    """One host: ``command`` run in a new UTS namespace whose host name is ``name``, in a
    session of its own (so :meth:`kill` takes the whole tree), its output in ``<folder>/log``."""

    def __init__(self, name: str, folder: Path, env: dict[str, str], command: list[str]):
        self.name, self.log_path = name, folder / "log"
        folder.mkdir(parents=True)
        env = {**env, "POSESTUDIO_INSTANCE_DIR": str(folder / "instance"), "PYTHONUNBUFFERED": "1"}
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                ["unshare", "--uts", "--", "sh", "-c", f'hostname "$0" && exec "$@"', name, *command],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while text not in self.log():
            assert self.proc.poll() is None, f"{self.name} exited:\n{self.log()[-3000:]}"
            assert time.monotonic() < deadline, f"{self.name}: no {text!r}:\n{self.log()[-3000:]}"
            time.sleep(0.2)

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _job(port: int, job_id: str) -> dict:
    status, body = _get(port, f"/api/jobs/{job_id}")
    assert status == 200, (status, body[:300])
    return json.loads(body)


def _wait_job(port: int, job_id: str, until, hosts: list[Host], timeout_s: float = 180.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while not until(job := _job(port, job_id)):
        assert time.monotonic() < deadline, (job, *(h.log()[-2000:] for h in hosts))
        time.sleep(0.3)
    return job


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)


@contextmanager
def _broker(kind: str) -> Iterator[str]:
    """The broker's URL: Redis database 6, emptied before and after; or a RabbitMQ virtual
    host of the test's own (so no other test's workers share its queues), deleted after."""
    if kind == "redis":
        client = redis.Redis.from_url(REDIS_URL)
        client.flushdb()
        try:
            yield REDIS_URL
        finally:
            client.flushdb()
        return
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl not found: cannot make a RabbitMQ virtual host of this test's own")
    vhost = f"h18a-hosts-{secrets.token_hex(4)}"
    _rabbitmqctl("add_vhost", vhost)
    try:
        _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    finally:
        _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture(params=["redis", "rabbitmq"])
def shared_services(request):
    """A PostgreSQL database of the test's own (dropped after) and the broker."""
    for port in (5432, 6379 if request.param == "redis" else 5672):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except OSError:
            pytest.skip(f"nothing listens on 127.0.0.1:{port} (PostgreSQL and the broker are needed)")
    if subprocess.run(["unshare", "--uts", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot make a UTS namespace here (needs root)")
    database = f"h18a_hosts_{secrets.token_hex(4)}"
    admin = sa.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
    try:
        with _broker(request.param) as broker_url:
            yield f"{POSTGRES}/{database}", broker_url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{database}" WITH (FORCE)'))
        admin.dispose()


def test_a_job_survives_its_worker_host_and_is_finished_by_another(tmp_path, shared_services, videos_dir,
                                                                    model_path) -> None:
    database_url, broker_url = shared_services
    shared = tmp_path / "shared"  # the uploads and outputs folders every host mounts
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL", "POSESTUDIO_INSTANCE_DIR")}
    env.update(DATABASE_URL=database_url, CELERY_BROKER_URL=broker_url, SECRET_KEY="several-hosts",
               POSESTUDIO_UPLOADS_DIR=str(shared / "uploads"), POSESTUDIO_OUTPUTS_DIR=str(shared / "outputs"),
               POSESTUDIO_MODEL_PATH=str(model_path), JOB_STALE_AFTER_S="5", LIVE_SESSIONS="0")
    port = free_port()
    worker = [sys.executable, "-m", "posestudio.cli", "worker", "--concurrency", "1"]
    web = Host("web-host", tmp_path / "web-host", env, web_command("127.0.0.1", port, workers=1, threads=4))
    hosts = [web]
    recorded = sa.create_engine(database_url)

    def worker_and_attempts(job_id: str) -> tuple[str, int]:
        with recorded.connect() as conn:
            return tuple(conn.execute(sa.text("SELECT worker, attempts FROM posestudio_jobs WHERE id = :i"),
                                      {"i": job_id}).one())

    try:
        workers = [Host(f"worker-host-{n}", tmp_path / f"worker-host-{n}", env, worker) for n in (1, 2)]
        hosts += workers
        web.wait_for("Booting worker")
        for host in workers:
            host.wait_for(f"@{host.name} ready.")

        status, body = post_multipart(port, "/api/jobs", (videos_dir / CLIP).read_bytes(), CLIP,
                                      {"net_height": "184", "end_s": "3", "screenshot_interval_s": "1"})
        assert status == 202, body
        job_id = json.loads(body)["id"]
        running = _wait_job(port, job_id, lambda j: j["state"] == "running" and j["frames_done"] >= 10, hosts)
        assert running["frames_total"] and running["frames_done"] < running["frames_total"]
        victim = next(h for h in workers if worker_and_attempts(job_id)[0].endswith(f"@{h.name}"))
        survivor = next(h for h in workers if h is not victim)
        victim.kill()  # the whole host: worker, pool, sweeper; no goodbye to anyone

        done = _wait_job(port, job_id, lambda j: j["state"] in ("succeeded", "failed", "cancelled"), hosts)
        assert done["state"] == "succeeded", (done, survivor.log()[-3000:])
        worker_name, attempts = worker_and_attempts(job_id)
        assert worker_name.endswith(f"@{survivor.name}") and attempts == 2

        # The web host serves what the surviving worker host wrote to the shared outputs folder.
        status, video = _get(port, done["outputs"]["video"])
        assert status == 200 and len(video) > 10_000
        status, _ = _get(port, f"/jobs/{job_id}/download.zip")
        assert status == 200
        # The web host sees the surviving worker host over the broker (a broadcast and its
        # replies between hosts), and is ready.
        deadline = time.monotonic() + 30
        while f"@{survivor.name}</strong>" not in _get(port, "/admin/")[1].decode():
            assert time.monotonic() < deadline, _get(port, "/admin/")[1].decode()[-3000:]
            time.sleep(1)
        status, body = _get(port, "/readyz")
        assert status == 200, body
        # Nothing of a job went into any host's own instance folder, and none is left partial.
        assert not list(shared.joinpath("outputs").glob(f".{job_id}*"))
        for host in hosts:
            instance = tmp_path / host.name / "instance"
            assert not [p for p in instance.rglob("*") if job_id in p.name], host.name
    finally:
        for host in reversed(hosts):
            host.stop()
        recorded.dispose()

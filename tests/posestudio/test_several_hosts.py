"""The web app and the workers on different "hosts" (issue 18): each host is a process tree of
its own, under a host name of its own (a UTS namespace: ``socket.gethostname()`` differs, so
do Celery's node names) and with an instance folder of its own. They share only what the
deployment guide says they share: the broker (Redis, or RabbitMQ), PostgreSQL, and the uploads and outputs
folders. A job uploaded to the web host goes to one of two worker hosts, which is killed
mid-job (its whole process tree, like a machine losing power); the other worker host's sweeper
finds the orphan and finishes it, and the web host serves the result. Real gunicorn, real Celery
workers, real model, real clip."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from posestudio.commands.serve import web_command
from rabbitmq_vhosts import own_vhost
from serve_process import ROOT, free_port, http_get, post_multipart

pytestmark = [pytest.mark.model, pytest.mark.postgres]

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
PG_SOCKET_DIR = "/var/run/postgresql"
CLIP = "mmaction2_test_video_structuralize.mp4"  # 426x240, 29.97 fps, 300 frames


class Host:
    """One host: ``command`` run in a new UTS namespace whose host name is ``name`` (and, unless
    ``network``, a network namespace of its own with no interface up: no network at all), in a
    session of its own (so :meth:`kill` takes the whole tree), its output in ``<folder>/log``."""

    def __init__(self, name: str, folder: Path, env: dict[str, str], command: list[str], *, network: bool = True):
        self.name, self.log_path = name, folder / "log"
        folder.mkdir(parents=True)
        env = {**env, "POSESTUDIO_INSTANCE_DIR": str(folder / "instance"), "PYTHONUNBUFFERED": "1"}
        namespaces = ["--uts"] if network else ["--uts", "--net"]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                ["unshare", *namespaces, "--", "sh", "-c", 'hostname "$0" && exec "$@"', name, *command],
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
    return http_get(port, path, timeout_s=30)


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


@contextmanager
def _broker(kind: str) -> Iterator[str]:
    """The broker's URL: a Redis server of the test's own on a Unix socket (reachable from a
    host with no network, as PostgreSQL's socket is), stopped after; or a RabbitMQ virtual host
    of the test's own (so no other test's workers share its queues), deleted after."""
    if kind == "redis":
        if shutil.which("redis-server") is None:
            pytest.skip("redis-server not found: cannot start a Redis of this test's own")
        folder = Path(tempfile.mkdtemp(prefix="h18a-redis-"))  # a short path: sockets allow ~100 bytes
        server = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", str(folder / "redis.sock"),
                                   "--unixsocketperm", "700", "--save", "", "--appendonly", "no"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while not (folder / "redis.sock").exists():
                assert server.poll() is None and time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.1)
            yield f"redis+socket://{folder / 'redis.sock'}"
        finally:
            server.terminate()
            server.wait(timeout=10)
            shutil.rmtree(folder, ignore_errors=True)
        return
    with own_vhost("h18a-hosts-") as vhost:
        yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"


@pytest.fixture(params=["rabbitmq", "redis"])
def shared_services(request):
    """(database URL, broker URL, whether the worker hosts have a network): a PostgreSQL
    database of the test's own (dropped after) and the broker.

    - rabbitmq: PostgreSQL and RabbitMQ over TCP on 127.0.0.1; every host shares the network.
    - redis: the worker hosts have no network at all (a network namespace of their own);
      they reach PostgreSQL and Redis only through their Unix sockets, so nothing they need
      can be on the web host's loopback."""
    kind = request.param
    try:
        socket.create_connection(("127.0.0.1", 5432 if kind == "redis" else 5672), timeout=2).close()
        socket.create_connection(("127.0.0.1", 5432), timeout=2).close()
    except OSError:
        pytest.skip("PostgreSQL (127.0.0.1:5432) or RabbitMQ (127.0.0.1:5672) does not answer")
    if subprocess.run(["unshare", "--uts", "--net", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot make UTS and network namespaces here (needs root)")
    if kind == "redis" and not Path(PG_SOCKET_DIR, ".s.PGSQL.5432").exists():
        pytest.skip(f"PostgreSQL's Unix socket is not in {PG_SOCKET_DIR}")
    database = f"h18a_hosts_{secrets.token_hex(4)}"
    admin = sa.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
    database_url = (f"postgresql+psycopg://postgres@/{database}?host={PG_SOCKET_DIR}" if kind == "redis"
                    else f"{POSTGRES}/{database}")
    try:
        with _broker(kind) as broker_url:
            yield database_url, broker_url, kind != "redis"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{database}" WITH (FORCE)'))
        admin.dispose()


def test_a_host_without_network_reaches_nothing_over_tcp() -> None:
    """What the redis case's worker hosts are: not even the machine's own services answer."""
    if subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot make a network namespace here (needs root)")
    probe = ("import socket\ntry:\n    socket.create_connection(('127.0.0.1', 5432), timeout=2)\n"
             "except OSError as exc:\n    print('unreachable', type(exc).__name__)")
    out = subprocess.run(["unshare", "--net", sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=30)
    assert out.stdout.startswith("unreachable"), (out.stdout, out.stderr)


def test_a_job_survives_its_worker_host_and_is_finished_by_another(tmp_path, shared_services, videos_dir,
                                                                    model_path) -> None:
    database_url, broker_url, networked = shared_services
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
        workers = [Host(f"worker-host-{n}", tmp_path / f"worker-host-{n}", env, worker, network=networked)
                   for n in (1, 2)]
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

"""Health checks for an orchestrator (Kubernetes probes, Docker's HEALTHCHECK, a load balancer).

- ``GET /livez``: the web process answers (200), nothing else is asked.
- ``GET /readyz``: what a job needs works (200); otherwise 503 with the reason for each:
  - database: the job database takes a write (one small row, committed: a read-only or full
    database answers a SELECT and still cannot take a job);
  - broker: the broker accepts a connection and has the job queue; the embedded queue also
    writes a probe message (a full instance disk stops it);
  - storage: the uploads and outputs folders each take a small file (written, flushed, removed)
    and have at least :data:`MIN_FREE_BYTES` free.
  Each check is bounded (the broker by one connection attempt of about a second), so a probe
  never hangs. Reasons name no host or path.

Both are open to anyone, like the upload page: they say nothing about jobs.
"""
from __future__ import annotations

import os
import shutil
import tempfile

from flask import Blueprint, Response, current_app, jsonify

from jobs import database_unavailable
from jobs.queries import probe_write
from jobs.store import FULL, LOCKED, database_trouble
from web.state import state

bp = Blueprint("health", __name__)

#: Less free space than this on the uploads' or outputs' disk: not ready (an upload or a job's
#: outputs would fail part way).
MIN_FREE_BYTES = 64 * 1024**2


@bp.get("/livez")
def livez() -> Response:
    return jsonify({"status": "ok"})


def _check_database() -> str | None:
    try:
        probe_write(state().store)
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        current_app.logger.warning("readyz: the database does not take a write: %s", exc)
        trouble = database_trouble(exc) if database_unavailable(exc) else None
        if trouble == LOCKED:
            return "the job database is locked by another process (it does not take a write)"
        if trouble == FULL:
            return "the job database's disk is full (it does not take a write)"
        return f"the job database does not answer or take a write ({type(exc).__name__})"
    return None


def _check_broker() -> str | None:
    from kombu.exceptions import ChannelError

    from workers.celery_app import app_for
    from workers.monitor import QUEUE_NAME

    try:
        with app_for(state().settings).connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=1)
            channel = connection.default_channel
            try:
                channel.queue_declare(queue=QUEUE_NAME, passive=True)
            except ChannelError as exc:
                if getattr(exc, "code", None) != 404 and "NOT_FOUND" not in str(exc):
                    raise  # never declared is fine: nobody has used this broker yet
            check_writable = getattr(channel, "check_writable", None)  # the embedded queue
            if check_writable is not None:
                check_writable()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        current_app.logger.warning("readyz: the broker is not usable: %s", exc)
        return f"the job queue (broker) is not reachable or not usable ({type(exc).__name__})"
    return None


def _probe_folder(folder: str) -> int:
    """Write, flush and remove a small file in ``folder``; its disk's free bytes."""
    fd, probe = tempfile.mkstemp(dir=folder, prefix=".readyz-")
    try:
        os.write(fd, b"ready?")
        os.fsync(fd)
    finally:
        os.close(fd)
        os.unlink(probe)
    return shutil.disk_usage(folder).free


def _check_storage() -> str | None:
    settings = state().settings
    for name, folder in (("uploads", settings.uploads_dir), ("outputs", settings.outputs_dir)):
        try:
            free = _probe_folder(str(folder))
        except OSError as exc:
            current_app.logger.warning("readyz: the %s folder cannot be written: %s", name, exc)
            return f"the {name} folder cannot be written ({exc.strerror or type(exc).__name__})"
        if free < MIN_FREE_BYTES:
            current_app.logger.warning("readyz: the %s folder's disk has %d bytes free", name, free)
            return (f"the {name} folder's disk is full ({free // 1024**2} MiB free, "
                    f"{MIN_FREE_BYTES // 1024**2} MiB needed)")
    return None


CHECKS = {"database": _check_database, "broker": _check_broker, "storage": _check_storage}


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    failures = {name: reason for name, check in CHECKS.items() if (reason := check())}
    checks = {name: failures.get(name, "ok") for name in CHECKS}
    if failures:
        body = {"status": "unavailable", "checks": checks, "reason": "; ".join(failures.values())}
        return jsonify(body), 503
    return jsonify({"status": "ready", "checks": checks}), 200

"""Health checks for an orchestrator (Kubernetes probes, Docker's HEALTHCHECK, a load balancer).

- ``GET /livez``: the web process answers (200), nothing else is asked.
- ``GET /readyz``: the job database answers a query and the broker accepts a connection (200);
  otherwise 503 with the reason for each. Each check is bounded (the broker by one connection
  attempt of about a second), so a probe never hangs. Reasons name no host or path.

Both are open to anyone, like the upload page: they say nothing about jobs.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from jobs.queries import ping
from web.state import state

bp = Blueprint("health", __name__)


@bp.get("/livez")
def livez() -> Response:
    return jsonify({"status": "ok"})


def _check_database() -> str | None:
    try:
        ping(state().store)
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        current_app.logger.warning("readyz: the database does not answer: %s", exc)
        return f"the job database does not answer ({type(exc).__name__})"
    return None


def _check_broker() -> str | None:
    from workers.celery_app import app_for

    try:
        with app_for(state().settings).connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=1)
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        current_app.logger.warning("readyz: the broker is not reachable: %s", exc)
        return f"the job queue (broker) is not reachable ({type(exc).__name__})"
    return None


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    failures = {name: reason for name, reason in (("database", _check_database()),
                                                  ("broker", _check_broker())) if reason}
    checks = {name: failures.get(name, "ok") for name in ("database", "broker")}
    if failures:
        body = {"status": "unavailable", "checks": checks, "reason": "; ".join(failures.values())}
        return jsonify(body), 503
    return jsonify({"status": "ready", "checks": checks}), 200

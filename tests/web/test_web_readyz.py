"""``/readyz`` says ready only when a job could work (issue 18, finding 8): the database takes a
write, the queue takes a message, the uploads and outputs folders take a file and have room.
It used to run a SELECT and open a broker connection, and said ready with the database
read-only, the embedded queue's disk full, or the outputs disk full. Real PostgreSQL, real
(small) tmpfs disks, the real embedded queue; the admin page's broker view must agree."""
from __future__ import annotations

from pathlib import Path

import pytest

from app import create_app
from web import health
from web.broker_view import ask_broker
from web_helpers import make_settings

from pg_schemas import own_schema, schema_url
from tmpfs import fill, small_disk


def _readyz(app) -> tuple[int, dict]:
    response = app.test_client().get("/readyz")
    return response.status_code, response.get_json()


@pytest.mark.postgres
def test_a_read_only_database_is_not_ready(tmp_path: Path) -> None:
    with own_schema("h18a_readyz") as schema:
        url = schema_url(schema)
        writable = create_app({"SETTINGS": make_settings(tmp_path, database_url=url), "TESTING": True})
        assert _readyz(writable)[0] == 200  # creates the tables, takes the probe's write
        read_only_url = url.replace("&", "%20-cdefault_transaction_read_only%3Don&", 1)  # one more -c option
        read_only = create_app({"SETTINGS": make_settings(tmp_path, database_url=read_only_url), "TESTING": True})
        status, body = _readyz(read_only)
        assert status == 503, body
        assert body["checks"]["broker"] == "ok" and body["checks"]["storage"] == "ok"
        assert "take a write" in body["checks"]["database"] and "5432" not in body["reason"]
        writable.extensions["posestudio"].store.close()
        read_only.extensions["posestudio"].store.close()


def test_a_full_outputs_disk_is_not_ready_until_space_is_freed(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(health, "MIN_FREE_BYTES", 64 * 1024)
    with small_disk(tmp_path / "outputs", size="512k") as outputs:
        app = create_app({"SETTINGS": make_settings(tmp_path), "TESTING": True})
        assert _readyz(app)[0] == 200
        filler = fill(outputs)
        status, body = _readyz(app)
        assert status == 503 and body["checks"]["database"] == "ok" and body["checks"]["broker"] == "ok"
        assert "outputs folder" in body["checks"]["storage"] and str(outputs) not in body["reason"]
        filler.unlink()
        assert _readyz(app) == (200, {"status": "ready", "checks": {"database": "ok", "broker": "ok",
                                                                     "storage": "ok"}})


def test_a_full_embedded_queue_disk_is_not_ready_and_the_admin_view_agrees(tmp_path: Path) -> None:
    """The embedded queue's folder on a full disk: neither a job nor the admin's broadcast can
    be sent; /readyz and the admin's broker view both say so, and both recover once space is
    freed, with no restart."""
    database = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"  # the database elsewhere: only the queue fails
    with small_disk(tmp_path / "instance") as instance:
        settings = make_settings(tmp_path, database_url=database)
        app = create_app({"SETTINGS": settings, "TESTING": True})
        assert _readyz(app)[0] == 200 and ask_broker(settings).reachable
        filler = fill(instance)
        status, body = _readyz(app)
        assert status == 503 and body["checks"]["database"] == "ok" and body["checks"]["storage"] == "ok"
        assert "job queue" in body["checks"]["broker"]
        assert not ask_broker(settings).reachable
        filler.unlink()
        assert _readyz(app)[0] == 200
        assert ask_broker(settings).reachable

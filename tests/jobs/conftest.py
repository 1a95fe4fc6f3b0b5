"""A job store on SQLite and on a PostgreSQL schema of its own (``db_store``), for the tests of
the modules around the store (queries, retention, tallies)."""
from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa

from jobs import JobStore

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="module")
def pg_url():
    try:
        engine = sa.create_engine(PG_URL)
        schema = f"jobs_svc_{secrets.token_hex(4)}"
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432: {exc}")
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'instance' / 'jobs.sqlite3'}"
    url = request.getfixturevalue("pg_url")
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # each test starts from empty tables
        for table in ("posestudio_jobs", "posestudio_expired_jobs", "posestudio_tallies"):
            if sa.inspect(conn).has_table(table):
                conn.execute(sa.text(f"DELETE FROM {table}"))
    engine.dispose()
    return url


@pytest.fixture
def db_store(db_url):
    store = JobStore(db_url, stale_after_s=60)
    yield store
    store.close()

"""A job store on SQLite and on a PostgreSQL schema of its own (``db_store``), for the tests of
the modules around the store (queries, retention, tallies)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from jobs import JobStore

from pg_schemas import own_schema, schema_url


@pytest.fixture(scope="module")
def pg_url():
    with own_schema("jobs_svc") as schema:
        yield schema_url(schema)


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

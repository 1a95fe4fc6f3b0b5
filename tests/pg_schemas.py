"""A PostgreSQL schema of a test's own in the shared ``test`` database (127.0.0.1:5432, the
``postgres`` user), dropped afterwards, and URLs into it, straight or through a port of choice
(a :class:`tcp_proxy.TcpProxy`)."""
from __future__ import annotations

import secrets
from contextlib import contextmanager
from typing import Iterator

import pytest
import sqlalchemy as sa

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def schema_url(schema: str, *, port: int = 5432) -> str:
    """The URL of ``schema``; ``connect_timeout`` keeps a connection to a dead port short."""
    return (f"postgresql+psycopg://postgres@127.0.0.1:{port}/test"
            f"?options=-csearch_path%3D{schema}&connect_timeout=2")


@contextmanager
def own_schema(prefix: str) -> Iterator[str]:
    """Yields the new schema's name (skips the test, saying why, without PostgreSQL)."""
    schema = f"{prefix}_{secrets.token_hex(4)}"
    admin = sa.create_engine(PG_ADMIN)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432: {exc}")
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

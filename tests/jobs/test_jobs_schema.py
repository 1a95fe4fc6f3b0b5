"""Several processes opening one new database at once (serve's web processes and its worker on a
fresh machine) must all get a working store: a table another process creates between our look
and our CREATE is no error. Real SQLite file; the other process is a second engine that creates
each table just before this store's CREATE of it (a before_create hook), which is the
interleaving that made a gunicorn worker fail to boot ("table posestudio_tallies already exists")."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event

from jobs import JobStore
from jobs.models import Base


def test_tables_another_process_creates_under_our_feet_are_fine(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    other = create_engine(url)
    raced: list[str] = []

    def create_it_first(table, connection, **_kw) -> None:
        if table.name not in raced:
            raced.append(table.name)
            table.create(other)  # the other process wins the race

    tables = list(Base.metadata.sorted_tables)
    for table in tables:
        event.listen(table, "before_create", create_it_first)
    try:
        store = JobStore(url)
    finally:
        for table in tables:
            event.remove(table, "before_create", create_it_first)
        other.dispose()
    assert sorted(raced) == sorted(t.name for t in tables)  # every table was raced for
    job = store.create_job(source_name="a.mp4", options={}, owner=None, source_meta={})
    assert store.get(job.id).source_name == "a.mp4"


def test_a_database_from_before_job_kinds_gets_the_kind_column_and_old_jobs_are_videos(tmp_path: Path) -> None:
    """An existing table without ``kind`` (made before image jobs): opening the store adds the
    column; the rows already there read as videos, new ones keep the kind they are given."""
    from sqlalchemy import inspect, text

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    store = JobStore(url)
    old = store.create_job(source_name="old.mp4", options={}, owner=None, source_meta={})
    store.close()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE posestudio_jobs DROP COLUMN kind"))
    assert "kind" not in {c["name"] for c in inspect(engine).get_columns("posestudio_jobs")}
    engine.dispose()
    reopened = JobStore(url)
    assert reopened.get(old.id).kind == "video"
    photos = reopened.create_job(source_name="a.jpg", options={}, owner=None, source_meta={}, kind="images")
    assert reopened.get(photos.id).kind == "images"
    reopened.close()

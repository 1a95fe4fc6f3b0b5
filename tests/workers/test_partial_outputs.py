"""A run killed on its job's last attempt leaves its temp folder (``outputs/.<id>.partial-*``),
and no later run of that job would remove it: the worker's orphan sweep removes it as soon as
it fails the job, and the retention sweep catches any other run's leftovers; a running job's
folder is never touched. Real store (SQLite), real recovery pass on the embedded broker."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import update

from config import Settings
from jobs import JobState
from jobs.models import JobRow
from jobs.retention import sweep
from workers import recovery
from workers.tasks import store_for


def _partial(settings: Settings, job_id: str, suffix: str):
    folder = settings.outputs_dir / f".{job_id}.partial-{suffix}"
    (folder / "screenshots").mkdir(parents=True)
    (folder / "poses.bin").write_bytes(b"\0" * 880)
    return folder


def test_a_job_failed_on_its_last_attempt_leaves_no_partial_outputs(tmp_path):
    settings = Settings(instance_dir=tmp_path / "instance", uploads_dir=tmp_path / "uploads",
                        outputs_dir=tmp_path / "outputs", secret_key="t", job_stale_after_s=5)
    store = store_for(settings)
    dying = store.create_job(source_name="a.mp4", options={}, owner=None, source_meta={})
    store.mark_running(dying.id, worker="gone@host")
    long_ago = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=1)
    with store._sessions.begin() as session:  # its third run stopped beating an hour ago
        session.execute(update(JobRow).where(JobRow.id == dying.id).values(attempts=3, heartbeat_at=long_ago))
    running = store.create_job(source_name="b.mp4", options={}, owner=None, source_meta={})
    store.mark_running(running.id, worker="alive@host")
    left, in_use = _partial(settings, dying.id, "1a2b3c"), _partial(settings, running.id, "4d5e6f")

    recovery.recover(settings)
    failed = store.get(dying.id)
    assert failed.state is JobState.FAILED and "stopped unexpectedly" in failed.error
    assert not left.exists()
    assert in_use.is_dir() and (in_use / "poses.bin").is_file()  # a live run's, untouched

    store.mark_failed(running.id, error="x")  # whatever else left one: the retention sweep
    assert sweep(store, settings).orphans_removed == [f"outputs/{in_use.name}"]
    assert list(settings.outputs_dir.iterdir()) == []

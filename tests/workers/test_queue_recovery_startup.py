"""Worker start-up recovery must not cost the worker its orphan sweeper: when the broker or the
database is away at that moment, the start-up pass is logged and the sweeper still starts."""
from __future__ import annotations

import threading
from types import SimpleNamespace

from config import Settings
from jobs import JobState, JobStore
from workers import recovery


def _sweepers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "orphan-sweeper" and t.is_alive()]


def test_sweeper_starts_even_when_the_start_up_pass_fails(tmp_path, caplog) -> None:
    settings = Settings(instance_dir=tmp_path / "instance", uploads_dir=tmp_path / "up",
                        outputs_dir=tmp_path / "out", secret_key="t",
                        broker_url="redis://127.0.0.1:1/0")  # nothing listens: enqueue fails
    store = JobStore(settings.effective_database_url)
    job = store.create_job(source_name="a.mp4", options={}, owner=None, source_meta={})
    worker = SimpleNamespace(app=SimpleNamespace(posestudio_settings=settings), hostname="w@test")
    before = set(_sweepers())
    try:
        recovery._on_worker_ready(sender=worker)  # the queued job cannot be sent again
        started = [t for t in _sweepers() if t not in before]
        assert len(started) == 1
        assert "start-up recovery failed" in caplog.text
        assert store.get(job.id).state is JobState.QUEUED  # still there for the next pass
    finally:
        recovery._on_worker_shutdown()
        for thread in set(_sweepers()) - before:
            thread.join(timeout=10)
        store.close()


def test_a_failed_start_up_pass_is_repeated_by_the_sweeper_until_it_succeeds(monkeypatch) -> None:
    calls: list[dict] = []

    def fake_recover(settings, **kwargs):
        calls.append(kwargs)
        if len(calls) <= 2:
            raise ConnectionError("broker away")
        if len(calls) == 4:
            recovery._sweeper_stop.set()
        return []

    monkeypatch.setattr(recovery, "recover", fake_recover)
    recovery._sweeper_stop.clear()
    pending = {"resend_queued": True}
    recovery._sweep_forever(Settings(secret_key="t"), 0.01, pending)
    assert calls == [pending, pending, pending, {}]  # then plain sweeps


def test_start_up_never_takes_a_live_run_for_its_predecessors(tmp_path) -> None:
    """A worker that starts while another run with the same node name is alive (two workers
    named alike, or a start that is slow to get to its recovery pass) leaves that run alone:
    only a stale heartbeat, or an exit seen by whoever ran the worker, makes a job an orphan."""
    settings = Settings(instance_dir=tmp_path / "instance", uploads_dir=tmp_path / "up",
                        outputs_dir=tmp_path / "out", secret_key="t")
    store = JobStore(settings.effective_database_url)
    job = store.create_job(source_name="a.mp4", options={}, owner=None, source_meta={})
    running = store.mark_running(job.id, worker="posestudio@host")
    worker = SimpleNamespace(app=SimpleNamespace(posestudio_settings=settings), hostname="posestudio@host")
    before = set(_sweepers())
    try:
        recovery._on_worker_ready(sender=worker)
        after = store.get(job.id)
        assert (after.state, after.attempts, after.claim) == (JobState.RUNNING, 1, running.claim)
    finally:
        recovery._on_worker_shutdown()
        for thread in set(_sweepers()) - before:
            thread.join(timeout=10)
        store.close()

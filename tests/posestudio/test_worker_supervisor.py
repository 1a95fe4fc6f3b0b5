"""The worker supervisor's schedule and its recovery when the database is away, with real
worker processes that die at once (their broker URL names no transport) and a
real unreachable PostgreSQL address; the clock is the test's, so no test waits on back-off."""
from __future__ import annotations

from config import Settings
from jobs import JobState, JobStore
from posestudio import process_groups
from posestudio.worker_supervisor import WorkerSupervisor

UNREACHABLE_DB = "postgresql+psycopg://postgres@127.0.0.1:1/posestudio"  # nothing listens on port 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _worker_env(monkeypatch, tmp_path) -> None:
    """The spawned worker's environment: everything under tmp_path, and a broker URL with which
    Celery exits at once ("No such transport"). The supervisor's own settings use the embedded
    queue, so its recovery can enqueue."""
    for name in ("CELERY_BROKER_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("POSESTUDIO_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("POSESTUDIO_UPLOADS_DIR", str(tmp_path / "up"))
    monkeypatch.setenv("POSESTUDIO_OUTPUTS_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("REDIS_URL", "no-such-transport://")


def _die_and_tick(supervisor: WorkerSupervisor) -> int:
    supervisor.proc.wait(timeout=120)
    code = supervisor.proc.returncode
    supervisor.tick()
    assert supervisor.proc is None
    return code


def test_back_off_doubles_while_the_worker_dies_young_and_resets_after_a_good_run(monkeypatch, tmp_path, capsys):
    _worker_env(monkeypatch, tmp_path)
    settings = Settings(instance_dir=tmp_path / "instance", secret_key="t")
    clock = Clock()
    supervisor = WorkerSupervisor(settings, 1, clock=clock)
    supervisor.start()
    names = [supervisor.node_name]
    delays = []
    for _ in range(7):
        assert _die_and_tick(supervisor) != 0
        err = capsys.readouterr().err
        delays.append(int(err.split("restarting it in ")[1].split(" s")[0]))
        clock.now += delays[-1] - 0.1
        supervisor.tick()
        assert supervisor.proc is None  # not yet
        clock.now += 0.1
        supervisor.tick()
        names.append(supervisor.node_name)
    assert delays == [1, 2, 4, 8, 16, 30, 30]
    assert len(set(names)) == len(names)  # a new node name for every start
    clock.now += process_groups.STABLE_AFTER_S  # this one "stayed up" a minute
    _die_and_tick(supervisor)
    assert "restarting it in 1 s" in capsys.readouterr().err
    supervisor.stopped()


def test_recovery_that_fails_is_said_and_tried_again_at_the_next_start(monkeypatch, tmp_path, capsys):
    _worker_env(monkeypatch, tmp_path)
    clock = Clock()
    away = Settings(instance_dir=tmp_path / "instance", secret_key="t", database_url=UNREACHABLE_DB)
    supervisor = WorkerSupervisor(away, 1, clock=clock)
    supervisor.start()
    first = supervisor.node_name
    _die_and_tick(supervisor)
    err = capsys.readouterr().err
    assert f"could not recover the jobs of {first} (OperationalError" in err
    assert "trying again at the next worker start" in err and supervisor.dead_nodes == [first]

    # The database is back by the next start: the dead worker's running job is requeued then.
    back = away.with_overrides(database_url=None)
    store = JobStore(back.effective_database_url)
    job = store.create_job(source_name="a.mp4", options={}, owner=None, source_meta={})
    claimed = store.mark_running(job.id, worker=first)
    supervisor.settings = back
    clock.now += 1
    supervisor.tick()
    try:
        assert supervisor.dead_nodes == [] and supervisor.node_name != first
        requeued = store.get(job.id)
        assert requeued.state is JobState.QUEUED and requeued.attempts == claimed.attempts + 1
        assert f"sent 1 job(s) of {first} to the queue again: {job.id}" in capsys.readouterr().err
    finally:
        supervisor.stopped()
        store.close()

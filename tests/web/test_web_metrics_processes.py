"""/metrics through the real web server with several processes (gunicorn gthread, serve's 2 x 8),
after runs were counted by several worker processes at once: every scrape, whichever process
answers it, gives the same exact totals (they are read from the job database, not kept per
process)."""
from __future__ import annotations

import multiprocessing
import os
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from config import Settings
from jobs import JobStore
from jobs.tallies import record_run
from web_helpers import gunicorn_server


def _count_runs(database_url: str, state: str, runs: int) -> None:
    store = JobStore(database_url)
    for _ in range(runs):
        record_run(store, state=state, duration_s=3.0, frames=10)
    store.close()


def _values(text: str) -> dict[tuple, float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples
            if s.name.startswith(("posestudio_jobs", "posestudio_job_duration", "posestudio_frames"))}


def test_every_web_process_reports_the_runs_of_every_worker_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL")}
    env.update(POSESTUDIO_INSTANCE_DIR=str(tmp_path / "instance"), POSESTUDIO_UPLOADS_DIR=str(tmp_path / "up"),
               POSESTUDIO_OUTPUTS_DIR=str(tmp_path / "out"), SECRET_KEY="metrics")
    settings = Settings.from_env(env)
    store = JobStore(settings.effective_database_url)
    store.create_job(source_name="a.mp4", options={}, owner=None, source_meta={})
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=_count_runs, args=(settings.effective_database_url, state, 20))
               for state in ("succeeded", "succeeded", "failed")]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
        assert process.exitcode == 0
    try:
        with gunicorn_server(tmp_path, env=env, processes=2, threads=8, log_path=tmp_path / "gunicorn.log") as port:
            scrapes, texts = [], []
            for _ in range(8):  # a new connection each time: gunicorn's processes take turns
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as response:
                    texts.append(response.read().decode())
                    scrapes.append(_values(texts[-1]))
    finally:
        store.close()
    assert all(scrape == scrapes[0] for scrape in scrapes)
    for text in texts:  # each process's first scrape too: no series comes and goes
        assert all(f"\n{name} " in text for name in ("posestudio_broker_up", "posestudio_queue_length",
                                                      "posestudio_workers_online")), text
    values = scrapes[0]
    assert values[("posestudio_frames_processed_total", ())] == 600
    assert values[("posestudio_job_duration_seconds_count", (("state", "succeeded"),))] == 40
    assert values[("posestudio_job_duration_seconds_count", (("state", "failed"),))] == 20
    assert values[("posestudio_job_duration_seconds_sum", (("state", "succeeded"),))] == 120
    assert values[("posestudio_jobs", (("state", "queued"),))] == 1

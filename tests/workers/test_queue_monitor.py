"""workers.monitor against the real brokers with no worker running: jobs wait in the queue,
nobody answers the broadcast."""
from __future__ import annotations

import pytest
import redis

from config import Settings
from workers import monitor
from workers.tasks import enqueue_job

REDIS_URL = "redis://127.0.0.1:6379/12"  # a database of its own; emptied after the test


@pytest.mark.parametrize("broker", ["filesystem", pytest.param("redis", marks=pytest.mark.redis)])
def test_queue_length_counts_waiting_jobs_and_no_worker_answers(broker, tmp_path):
    settings = Settings(instance_dir=tmp_path / "instance", secret_key="t",
                        broker_url=REDIS_URL if broker == "redis" else None)
    client = redis.Redis.from_url(REDIS_URL)
    if broker == "redis":
        try:
            client.flushdb()
        except redis.ConnectionError as exc:
            pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    try:
        assert monitor.queue_length(settings) == 0
        for job_id in ("job-a", "job-b", "job-c"):
            enqueue_job(job_id, settings=settings)
        assert monitor.queue_length(settings) == 3
        assert monitor.list_workers(settings, timeout_s=0.5) == []
    finally:
        if broker == "redis":
            client.flushdb()  # only database 12, which this test owns

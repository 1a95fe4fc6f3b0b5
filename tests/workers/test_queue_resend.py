"""The sweeper sends again only jobs whose message is lost (issue 18, finding 10): a backlog of
queued jobs, their messages waiting in the broker, used to be sent again at every sweep (86
queued cost 298 deliveries). Real recovery pass, real job store, the real embedded queue and
real Redis."""
from __future__ import annotations

import pytest
import redis
import sqlalchemy as sa

from config import Settings
from workers import monitor, recovery
from workers.tasks import enqueue_job, store_for

REDIS_URL = "redis://127.0.0.1:6379/5"  # a database of its own; emptied by the test


def _lose_every_message(settings: Settings) -> None:
    if settings.broker_url:
        redis.Redis.from_url(settings.broker_url).flushdb()
    else:
        for message in (settings.instance_dir / "broker" / "queue").iterdir():
            message.unlink()


@pytest.mark.parametrize("broker", ["filesystem", pytest.param("redis", marks=pytest.mark.redis)])
def test_a_backlog_is_not_sent_again_and_lost_messages_are(broker, tmp_path) -> None:
    settings = Settings(instance_dir=tmp_path / "instance", uploads_dir=tmp_path / "up",
                        outputs_dir=tmp_path / "out", secret_key="t", job_stale_after_s=60,
                        broker_url=REDIS_URL if broker == "redis" else None)
    if broker == "redis":
        try:
            redis.Redis.from_url(REDIS_URL).flushdb()
        except redis.ConnectionError as exc:
            pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    store = store_for(settings)
    try:
        ids = [store.create_job(source_name=f"{n}.mp4", options={}, owner=None, source_meta={}).id
               for n in range(30)]
        for job_id in ids:
            enqueue_job(job_id, settings=settings)
            assert store.mark_sent(job_id)
        with store._engine.begin() as conn:  # all sent ten minutes ago; no worker took any yet
            conn.execute(sa.text("UPDATE posestudio_jobs SET sent_at = sent_at - INTERVAL '600 seconds'")
                         if store.database_url.startswith("postgres") else
                         sa.text("UPDATE posestudio_jobs SET sent_at = datetime(sent_at, '-600 seconds')"))
        for _sweep in range(3):
            assert recovery.recover(settings) == []
        assert monitor.queue_length(settings) == 30

        _lose_every_message(settings)
        assert monitor.queue_length(settings) == 0
        assert sorted(recovery.recover(settings)) == sorted(ids)
        assert monitor.queue_length(settings) == 30
        assert recovery.recover(settings) == []  # sent just now: given time to be taken
    finally:
        if broker == "redis":
            redis.Redis.from_url(REDIS_URL).flushdb()

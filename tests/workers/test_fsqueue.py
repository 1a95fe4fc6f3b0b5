"""The embedded queue's messages appear whole or not at all, and each is taken by one consumer.

kombu's own filesystem channel creates the message file and then writes into it; a consumer
polling at that moment reads an empty file and the job is lost (seen on a loaded machine: a
requeued job stayed "queued" for ever). These tests put a consumer exactly in that moment."""
from __future__ import annotations

import os
import threading
import time

import pytest
from kombu import Connection
from kombu.transport.virtual import Empty

from config import Settings
from workers import fsqueue
from workers.celery_app import FILESYSTEM_POLL_S, broker_config


@pytest.fixture
def channel(tmp_path):
    config = broker_config(Settings(instance_dir=tmp_path, secret_key="t"))
    assert config["broker_transport"] == "workers.fsqueue:Transport"
    with Connection(config["broker_url"], transport=config["broker_transport"],
                    transport_options=config["broker_transport_options"]) as connection:
        yield connection.default_channel


def test_a_consumer_polling_while_a_message_is_written_sees_nothing_then_the_whole_message(
        channel, monkeypatch) -> None:
    seen_mid_write = []
    real_dumps = fsqueue.dumps

    def dumps_while_a_consumer_polls(payload):
        text = real_dumps(payload)
        try:
            seen_mid_write.append(channel._get("celery"))
        except Empty:
            seen_mid_write.append(None)
        return text

    monkeypatch.setattr(fsqueue, "dumps", dumps_while_a_consumer_polls)
    channel._put("celery", {"body": "job-1"})
    assert seen_mid_write == [None]
    assert channel._get("celery") == {"body": "job-1"}
    with pytest.raises(Empty):
        channel._get("celery")


def test_messages_come_out_oldest_first_and_leave_no_files_behind(channel, tmp_path) -> None:
    for n in range(3):
        channel._put("celery", {"body": f"job-{n}"})
    assert channel._size("celery") == 3
    assert [channel._get("celery")["body"] for _ in range(3)] == ["job-0", "job-1", "job-2"]
    broker = tmp_path / "broker"
    assert [p for p in broker.rglob("*") if p.is_file()] == []


def test_a_message_taken_by_another_consumer_first_is_skipped(channel, monkeypatch) -> None:
    channel._put("celery", {"body": "first"})
    channel._put("celery", {"body": "second"})
    real_rename = os.rename
    taken = []

    def rename_after_a_rival(src, dst):
        if not taken:  # a rival consumer claims the oldest message just before us
            taken.append(src)
            real_rename(src, str(dst) + ".rival")
        return real_rename(src, dst)

    monkeypatch.setattr(fsqueue.os, "rename", rename_after_a_rival)
    assert channel._get("celery") == {"body": "second"}


def test_a_waiting_consumer_gets_a_message_within_a_fraction_of_a_second(tmp_path) -> None:
    """An idle worker looks at the folders every FILESYSTEM_POLL_S, not kombu's 1 s: a job
    starts, and a worker answers the admin page's 1 s broadcast, without waiting a whole second."""
    config = broker_config(Settings(instance_dir=tmp_path, secret_key="t"))
    options = dict(transport=config["broker_transport"], transport_options=config["broker_transport_options"])
    with Connection(config["broker_url"], **options) as consumer, \
            Connection(config["broker_url"], **options) as producer:
        inbox = consumer.SimpleQueue("latency")
        with pytest.raises(inbox.Empty):
            inbox.get(timeout=0.01)  # declared, and the consumer's first look is done
        timer = threading.Timer(0.3, lambda: producer.SimpleQueue("latency").put({"job": "j"}))
        timer.start()
        started = time.monotonic()
        message = inbox.get(timeout=3)
        waited = time.monotonic() - started - 0.3
        timer.join()
        message.ack()
        assert message.payload == {"job": "j"}
        assert waited < 0.5 + FILESYSTEM_POLL_S, f"the message waited {waited:.2f} s to be seen"

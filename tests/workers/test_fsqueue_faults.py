"""The embedded queue survives a full disk, damaged files and workers that die.

A full instance disk used to leave kombu's routing table (``control/<exchange>.exchange``) or a
message at 0 bytes, and every broadcast failed after that for ever (issue 18, finding 1). Each
dead worker's control queue stayed bound, so every broadcast wrote one more file nobody reads
(finding 3). Real kombu connections on the real channel, on a real (small) tmpfs."""
from __future__ import annotations

import json
import os
import time

import pytest
from kombu import Connection, Exchange, Queue
from kombu.exceptions import ChannelError

from config import Settings
from workers import fsqueue
from workers.celery_app import broker_config

from tmpfs import fill, small_disk

BROADCAST = Exchange("celery.pidbox", type="fanout", durable=False, auto_delete=True)
REPLIES = Exchange("reply.celery.pidbox", type="direct", durable=False, auto_delete=True)


def node_queue(name: str) -> Queue:
    return Queue(f"{name}.celery.pidbox", exchange=BROADCAST, durable=False, auto_delete=True)


def connect(instance) -> Connection:
    config = broker_config(Settings(instance_dir=instance, secret_key="t"))
    return Connection(config["broker_url"], transport=config["broker_transport"],
                      transport_options=config["broker_transport_options"])


@pytest.fixture(autouse=True)
def fresh_kombu_state():
    """kombu keeps the filesystem transport's bindings in one process-wide state: each test
    starts with none, as a fresh process would."""
    fsqueue.Transport.global_state.clear()
    getattr(fsqueue.Channel, "_last_keepalive", {}).clear()
    yield
    fsqueue.Transport.global_state.clear()


def publish(connection: Connection, body: str) -> None:
    connection.Producer().publish({"body": body}, exchange=BROADCAST, routing_key="", declare=[BROADCAST])


def take(connection: Connection, queue: Queue):
    message = queue(connection.default_channel).get(no_ack=True)
    return None if message is None else message.payload["body"]


def control_files_parse(instance) -> None:
    for file in (instance / "broker" / "control").glob("*.exchange"):
        json.loads(file.read_text())  # raises on a torn or empty table


def test_a_full_disk_fails_each_write_cleanly_and_the_queue_works_once_space_is_freed(tmp_path) -> None:
    with small_disk(tmp_path / "instance") as instance, connect(instance) as worker, connect(instance) as web:
        mine = node_queue("w1")
        mine(worker.default_channel).declare()
        filler = fill(instance)

        reply = Queue("r1.reply.celery.pidbox", exchange=REPLIES, routing_key="r1", auto_delete=True)
        with pytest.raises(ChannelError):  # the table cannot be written: refused
            reply(web.default_channel).declare()
        with pytest.raises(ChannelError):  # the message cannot be written: refused
            publish(web, "while full")
        control_files_parse(instance)
        assert take(worker, mine) is None  # nothing half-written reached the queue

        filler.unlink()
        fsqueue.Transport.global_state.clear()  # the web process asks afresh, like a new one
        reply(web.default_channel).declare()
        publish(web, "after")
        assert take(worker, mine) == "after"
        control_files_parse(instance)
        assert [p.name for p in (instance / "broker" / "staging").iterdir()] == []


def test_a_damaged_routing_table_is_rebuilt_by_the_live_consumers(tmp_path, monkeypatch) -> None:
    instance = tmp_path / "instance"
    with connect(instance) as worker, connect(instance) as web:
        mine = node_queue("w1")
        mine(worker.default_channel).declare()
        table = instance / "broker" / "control" / "celery.pidbox.exchange"
        table.write_bytes(b"")  # what kombu's in-place rewrite left on a full disk
        publish(web, "lost")  # read as an empty table: goes nowhere, fails nothing
        monkeypatch.setattr(fsqueue, "KEEPALIVE_S", 0.0)
        assert take(worker, mine) is None  # the worker polls: its binding is put back
        assert json.loads(table.read_text()) == [["", "", "w1.celery.pidbox"]]
        publish(web, "seen")
        assert take(worker, mine) == "seen"


def test_a_damaged_message_is_dropped_and_the_next_one_taken(tmp_path) -> None:
    instance = tmp_path / "instance"
    with connect(instance) as worker, connect(instance) as web:
        mine = node_queue("w1")
        mine(worker.default_channel).declare()
        (instance / "broker" / "queue" / f"{0:020d}_x.w1.celery.pidbox.msg").write_bytes(b"")
        publish(web, "next")
        assert take(worker, mine) == "next"
        assert list((instance / "broker" / "queue").iterdir()) == []


def test_dead_consumers_queues_are_unbound_and_their_messages_removed(tmp_path, monkeypatch) -> None:
    """Twenty workers killed without a goodbye, one alive: after the sweep, a broadcast writes
    one file (the live worker's), and the dead workers' files are gone."""
    instance = tmp_path / "instance"
    queue_folder = instance / "broker" / "queue"
    with connect(instance) as worker, connect(instance) as web:
        dead = [node_queue(f"dead{n}") for n in range(20)]
        for queue in dead:
            queue(worker.default_channel).declare()
        publish(web, "before")
        assert len(list(queue_folder.iterdir())) == 20
        fsqueue.Transport.global_state.clear()  # the process that ran them is gone
        long_ago = time.time() - fsqueue.TRANSIENT_QUEUE_EXPIRES_S - 1
        for queue in dead:
            os.utime(instance / "broker" / "control" / f"{queue.name}.alive", (long_ago, long_ago))
        alive = node_queue("alive")
        alive(worker.default_channel).declare()

        monkeypatch.setattr(fsqueue, "SWEEP_EVERY_S", 0.0)
        for n in range(5):
            publish(web, f"after-{n}")
        assert sorted(p.name.split(".", 1)[1] for p in queue_folder.iterdir()) == ["alive.celery.pidbox.msg"] * 5
        table = json.loads((instance / "broker" / "control" / "celery.pidbox.exchange").read_text())
        assert table == [["", "", "alive.celery.pidbox"]]
        assert sorted(p.name for p in (instance / "broker" / "control").glob("*.alive")) == [
            "alive.celery.pidbox.alive"]
        assert [take(worker, alive) for _ in range(5)] == [f"after-{n}" for n in range(5)]


def test_a_job_queue_is_never_swept_however_long_no_worker_polls(tmp_path, monkeypatch) -> None:
    instance = tmp_path / "instance"
    with connect(instance) as web:
        jobs = web.SimpleQueue("celery")
        jobs.put({"job": "waits"})
        monkeypatch.setattr(fsqueue, "SWEEP_EVERY_S", 0.0)
        monkeypatch.setattr(fsqueue, "TRANSIENT_QUEUE_EXPIRES_S", -1.0)
        publish(web, "sweeps")
        assert jobs.get(timeout=1).payload == {"job": "waits"}


def test_a_write_abandoned_by_a_dead_process_is_removed(tmp_path, monkeypatch) -> None:
    instance = tmp_path / "instance"
    with connect(instance) as web:
        staging = instance / "broker" / "staging"
        abandoned, recent = staging / ".write-dead", staging / ".write-now"
        for file in (abandoned, recent):
            file.write_bytes(b'{"half": ')
        long_ago = time.time() - fsqueue.ABANDONED_WRITE_S - 1
        os.utime(abandoned, (long_ago, long_ago))
        monkeypatch.setattr(fsqueue, "SWEEP_EVERY_S", 0.0)
        publish(web, "sweeps")
        assert sorted(p.name for p in staging.iterdir()) == [".write-now"]  # one may be mid-write

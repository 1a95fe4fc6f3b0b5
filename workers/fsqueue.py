"""The embedded queue: kombu's filesystem transport, made safe for a disk that fills up and for
workers that come and go.

kombu's own filesystem channel has three faults this channel removes:

- It creates a message file in the queue folder and then writes into it, while a consumer in
  another process takes any file it finds there: a consumer that comes at the wrong moment
  reads an empty or half-written file, and the message (a job) is gone. Here each message is
  written into a staging folder beside the queue, flushed to disk, and renamed into the queue
  when complete (a rename within one file system is atomic); a consumer takes a message by
  renaming it into a claim folder first, so two consumers never read the same file.
- It rewrites its routing tables (``control/<exchange>.exchange``: which queues a broadcast
  goes to) in place: a full disk leaves one at 0 bytes, and every broadcast after that fails
  for ever. Here a table is written like a message (staging, fsync, rename) under a lock, so it
  is the old table or the new one, never a torn one; a table damaged anyway (by an older
  version, by hand) is read as empty, logged, and rebuilt: every live consumer checks its own
  bindings every :data:`KEEPALIVE_S` and puts back any that are missing.
- A broadcast goes to every queue ever bound to the exchange, and nothing removes a binding
  whose consumer died (a killed worker; ``posestudio serve`` names each restarted worker
  anew): the queue folder gains one file per dead node and broadcast, for ever. Here Celery's
  control and reply queues (names ending ``.pidbox``, declared by kombu's Mailbox as
  auto-delete queues with an expiry) are transient: a live consumer touches
  ``control/<queue>.alive`` every :data:`KEEPALIVE_S`, and one that has not for
  :data:`TRANSIENT_QUEUE_EXPIRES_S` is gone: its bindings and its messages are removed (swept
  every :data:`SWEEP_EVERY_S` by any process that polls or broadcasts; so is a staging file
  left by a process that died mid-write). Job queues are never swept: a job waits for a worker
  however long none runs.

Used through ``broker_transport = "workers.fsqueue:Transport"`` with the ``filesystem://`` URL
and these extra transport options: ``staging_folder`` and ``claimed_folder`` (both on the same
file system as the queue folder).
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from time import monotonic_ns
from typing import Callable, Iterator

from kombu.transport import filesystem
from kombu.transport.filesystem import exchange_queue_t
from kombu.transport.virtual import Empty
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

log = logging.getLogger(__name__)

#: Queues whose names end so are Celery's broadcast (``<node>.celery.pidbox``) and reply
#: (``<id>.reply.celery.pidbox``) queues: they live only as long as their consumer.
TRANSIENT_SUFFIX = ".pidbox"
#: A transient queue whose consumer has not polled for this long is gone (Celery's own expiry
#: for them is 10 s; a worker busy in its main process may poll late).
TRANSIENT_QUEUE_EXPIRES_S = 60.0
#: How often a consumer says it is alive and checks its bindings are in the routing tables.
KEEPALIVE_S = 5.0
#: How often one process looks for gone transient queues (and abandoned writes).
SWEEP_EVERY_S = 30.0
#: A staging file this old belongs to a write whose process died before its rename.
ABANDONED_WRITE_S = 3600.0
_SAFE_NAME = re.compile(r"\A[A-Za-z0-9._@-]+\Z")


def write_atomically(path: Path, data: bytes, staging_folder: str) -> None:
    """Write ``data`` to ``path`` whole or not at all: a temporary file in ``staging_folder``
    (same file system), flushed to disk, then renamed over ``path``. Raises OSError (the disk is
    full, ...) with ``path`` untouched and no temporary file left."""
    fd, staged = tempfile.mkstemp(dir=staging_folder, prefix=".write-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(staged, path)
    except BaseException:
        try:
            os.unlink(staged)
        except OSError:
            pass
        raise


def _binding(routing_key, pattern, queue) -> exchange_queue_t:  # noqa: ANN001 - kombu's values
    return exchange_queue_t(routing_key or "", pattern or "", queue or "")


def is_transient(queue: str) -> bool:
    return queue.endswith(TRANSIENT_SUFFIX) and bool(_SAFE_NAME.match(queue))


class Channel(filesystem.Channel):
    _last_keepalive: dict[str, float] = {}  # per process, like kombu's binding state
    _last_sweep = [0.0]

    @property
    def staging_folder(self) -> str:
        return self.transport_options["staging_folder"]

    @property
    def claimed_folder(self) -> str:
        return self.transport_options["claimed_folder"]

    # -- messages ------------------------------------------------------------------------------

    def _put(self, queue: str, payload: dict, **kwargs) -> None:
        """Write the message beside the queue, then rename it in: a reader sees all or nothing."""
        # Zero-padded nanoseconds: names sort in the order the messages were sent (kombu's
        # milliseconds let two messages of one millisecond come out in either order).
        name = f"{monotonic_ns():020d}_{uuid.uuid4()}.{queue}.msg"
        try:
            write_atomically(Path(self.data_folder_out) / name, str_to_bytes(dumps(payload)),
                             self.staging_folder)
        except OSError as exc:
            raise filesystem.ChannelError(f"cannot add message {name!r} to the queue: {exc}") from exc

    def _get(self, queue: str) -> dict:
        """Take the oldest message of ``queue``: rename it out of the queue (one consumer wins),
        read it, delete it. A message that cannot be decoded (written by an older version on a
        full disk) is logged and dropped: it is lost already, and it must not stop the queue."""
        self._keep_alive(queue)
        self._sweep_now_and_then()
        suffix = f"{queue}.msg"
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != suffix:
                continue
            claimed = os.path.join(self.claimed_folder, f"{os.getpid()}-{name}")
            try:
                os.rename(os.path.join(self.data_folder_in, name), claimed)
            except OSError:  # another consumer took it first
                continue
            try:
                with open(claimed, "rb") as f:
                    payload = f.read()
            finally:
                os.unlink(claimed)
            try:
                return loads(bytes_to_str(payload))
            except ValueError as exc:
                log.warning("embedded queue: dropped damaged message %s (%d bytes): %s",
                            name, len(payload), exc)
        raise Empty()

    def check_writable(self) -> None:
        """Raise ChannelError unless a message can be written now (for ``/readyz``): a probe
        written like a message, then removed."""
        probe = Path(self.staging_folder) / f".probe-{os.getpid()}-{uuid.uuid4().hex}"
        try:
            write_atomically(probe, b"{}", self.staging_folder)
            probe.unlink()
        except OSError as exc:
            raise filesystem.ChannelError(f"the embedded queue cannot write a message: {exc}") from exc

    # -- routing tables ------------------------------------------------------------------------

    def get_table(self, exchange: str) -> list:
        return self._read_table(self._exchange_file(exchange))[0]

    def _read_table(self, file: Path) -> tuple[list, bool]:
        """The table's bindings, and whether the file is sound (missing counts as sound)."""
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            return [], True
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot open {file}") from exc
        try:
            return [exchange_queue_t(*q) for q in loads(bytes_to_str(data))], True
        except (ValueError, TypeError) as exc:
            log.warning("embedded queue: routing table %s is damaged (%d bytes: %s); read as "
                        "empty, live consumers bind again within %.0f s", file.name, len(data), exc,
                        KEEPALIVE_S)
            return [], False

    @contextmanager
    def _tables_locked(self) -> Iterator[None]:
        self.control_folder.mkdir(exist_ok=True)
        fd = os.open(self.control_folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _update_table(self, file: Path, change: Callable[[list], list]) -> None:
        """Replace the table in ``file`` by ``change(table)``, atomically, under the lock."""
        try:
            with self._tables_locked():
                queues, sound = self._read_table(file)
                changed = change(list(queues))
                if changed != queues or not sound:
                    write_atomically(file, json.dumps(changed).encode(), self.staging_folder)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot update {file.name}: {exc}") from exc

    def queue_bind(self, queue, exchange=None, routing_key="", arguments=None, **kwargs) -> None:  # noqa: ANN001
        """kombu's, except that a binding the disk refused is forgotten in this process too:
        kombu records it in memory before writing it, and would never write it again (a web
        process's broadcast replies would go nowhere once the disk had been full)."""
        try:
            super().queue_bind(queue, exchange, routing_key, arguments, **kwargs)
        except filesystem.ChannelError:
            exchange = exchange or "amq.direct"
            self.state.binding_delete(queue, exchange, routing_key)
            meta = self.typeof(exchange).prepare_bind(queue, exchange, routing_key, arguments)
            table = self.state.exchanges.get(exchange, {}).get("table", [])
            if meta in table:
                table.remove(meta)
            raise

    def _queue_bind(self, exchange, routing_key, pattern, queue) -> None:  # noqa: ANN001 - kombu's API
        binding = _binding(routing_key, pattern, queue)
        self._touch_alive(binding.queue)
        self._update_table(self._exchange_file(exchange),
                           lambda queues: queues if binding in queues else [binding, *queues])

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs) -> None:  # noqa: ANN001
        self._purge(queue)
        binding = _binding(routing_key, pattern, queue)
        file = self._exchange_file(exchange)
        if file.exists():
            self._update_table(file, lambda queues: [q for q in queues if q != binding])
        if is_transient(queue):
            self._alive_file(queue).unlink(missing_ok=True)

    # -- transient queues ----------------------------------------------------------------------

    def _alive_file(self, queue: str) -> Path:
        return self.control_folder / f"{queue}.alive"

    def _touch_alive(self, queue: str) -> None:
        if not is_transient(queue):
            return
        try:
            self._alive_file(queue).touch()
        except OSError as exc:  # a full disk: said again at the next keep-alive
            log.warning("embedded queue: cannot mark %s alive: %s", queue, exc)

    def _keep_alive(self, queue: str) -> None:
        """Every KEEPALIVE_S per polled queue: mark it alive, put back its missing bindings."""
        now = time.monotonic()
        if now - self._last_keepalive.get(queue, -KEEPALIVE_S) < KEEPALIVE_S:
            return
        self._last_keepalive[queue] = now
        self._touch_alive(queue)
        for exchange, routing_key, arguments in list(self.state.queue_bindings(queue)):
            binding = _binding(*self.typeof(exchange).prepare_bind(queue, exchange, routing_key, arguments))
            try:
                file = self._exchange_file(exchange)
                if binding not in self._read_table(file)[0]:
                    log.warning("embedded queue: binding of %s to %s was missing; put back", queue, exchange)
                    self._update_table(file, lambda queues: queues if binding in queues else [binding, *queues])
            except filesystem.ChannelError as exc:  # a full disk: tried again at the next keep-alive
                log.warning("embedded queue: cannot check %s's binding to %s: %s", queue, exchange, exc)

    def _put_fanout(self, exchange, payload, routing_key, **kwargs) -> None:  # noqa: ANN001
        self._sweep_now_and_then()
        super()._put_fanout(exchange, payload, routing_key, **kwargs)

    def _sweep_now_and_then(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep[0] < SWEEP_EVERY_S:
            return
        self._last_sweep[0] = now
        try:
            swept = self.sweep_gone_queues()
        except (OSError, filesystem.ChannelError) as exc:
            log.warning("embedded queue: sweep of gone queues failed: %s", exc)
            return
        if swept:
            log.info("embedded queue: removed %d gone transient queue(s)", swept)

    def _gone(self, queue: str, now: float) -> bool:
        if not is_transient(queue):
            return False
        try:
            return now - self._alive_file(queue).stat().st_mtime > TRANSIENT_QUEUE_EXPIRES_S
        except FileNotFoundError:
            return True

    def sweep_gone_queues(self) -> int:
        """Unbind every transient queue whose consumer is gone, delete its messages and its
        marker; returns how many queues went."""
        now = time.time()
        gone: set[str] = set()
        for file in self.control_folder.glob("*.exchange"):
            queues = self._read_table(file)[0]
            dead = {q.queue for q in queues if self._gone(q.queue, now)}
            if dead:
                self._update_table(file, lambda table: [q for q in table
                                                        if q.queue not in dead or not self._gone(q.queue, now)])
                gone |= dead
        for name in os.listdir(self.data_folder_in):  # messages of queues no table names any more
            queue = name.partition(".")[2].removesuffix(".msg")
            if name.endswith(".msg") and (queue in gone or self._gone(queue, now)):
                gone.add(queue)
                try:
                    os.unlink(os.path.join(self.data_folder_in, name))
                except FileNotFoundError:
                    pass
        for queue in gone:
            if self._gone(queue, now):
                self._alive_file(queue).unlink(missing_ok=True)
        self._remove_abandoned_writes(now)
        return len(gone)

    def _remove_abandoned_writes(self, now: float) -> None:
        """Temporary files of writes whose process died between writing and renaming."""
        for entry in os.scandir(self.staging_folder):
            try:
                if now - entry.stat().st_mtime > ABANDONED_WRITE_S:
                    os.unlink(entry.path)
            except FileNotFoundError:
                pass


class Transport(filesystem.Transport):
    Channel = Channel

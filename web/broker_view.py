"""What the admin page and ``/metrics`` know about the queue, the workers and the disk.

:func:`ask_broker` connects to the broker once (one retry, about a second at most), and only if
that works asks for the queue's length and broadcasts ``posestudio_status`` to the workers
(``workers.housekeeping``: the jobs each one runs and its device), giving them
:data:`BROADCAST_TIMEOUT_S` to answer. A broker that is down is reported at once, with a
reason that names no host (the detail goes to the log). :func:`measure_storage` adds up the
uploads and outputs folders. :class:`ServiceViews` keeps both fresh in the background
(``web.snapshots``), one per web process.
"""
from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from config import Settings
from web.snapshots import Refreshing

log = logging.getLogger(__name__)

BROADCAST_TIMEOUT_S = 1.0
BROKER_REFRESH_S = 5.0
STORAGE_REFRESH_S = 60.0
FIRST_WAIT_S = 3.0  # only the first reader in a process waits; a broadcast takes 1 s
QUEUE_NAME = "celery"


@dataclass(frozen=True)
class WorkerStatus:
    """A worker that answered: node name, ids of the jobs it runs, its device and job slots."""

    name: str
    jobs: tuple[str, ...]
    device: str | None = None
    concurrency: int | None = None


@dataclass(frozen=True)
class BrokerStatus:
    reachable: bool
    queue_length: int | None = None
    workers: tuple[WorkerStatus, ...] = ()
    error: str | None = None


def ask_broker(settings: Settings) -> BrokerStatus:
    """The queue's length and the live workers, or why the broker could not be asked."""
    from kombu.exceptions import ChannelError

    from workers.celery_app import app_for

    app = app_for(settings)
    try:
        with app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=1)
            try:
                length = int(connection.default_channel.queue_declare(
                    queue=QUEUE_NAME, passive=True).message_count)
            except ChannelError:  # never declared: nobody has used this broker yet
                length = 0
        replies = app.control.broadcast("posestudio_status", reply=True, timeout=BROADCAST_TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001 - any broker failure is reported, not raised
        log.warning("the job queue could not be asked: %s", exc)
        return BrokerStatus(reachable=False, error=f"The job queue (broker) is not reachable "
                                                   f"({type(exc).__name__}); see the web server's log.")
    workers = []
    for reply in replies or ():
        for name, answer in reply.items():
            answer = answer if isinstance(answer, dict) and "jobs" in answer else {}
            workers.append(WorkerStatus(name=name, jobs=tuple(str(j) for j in answer.get("jobs", ())),
                                        device=answer.get("device"), concurrency=answer.get("concurrency")))
    return BrokerStatus(reachable=True, queue_length=length,
                        workers=tuple(sorted(workers, key=lambda w: w.name)))


@dataclass(frozen=True)
class FolderUsage:
    bytes: int = 0


@dataclass(frozen=True)
class StorageStatus:
    """Bytes under uploads/ and outputs/, and the free space of outputs/' disk."""

    uploads: FolderUsage = field(default_factory=FolderUsage)
    outputs: FolderUsage = field(default_factory=FolderUsage)
    disk_free_bytes: int | None = None


def _folder_usage(root: Path) -> FolderUsage:
    total = 0
    for top, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(top, name)).st_size
            except OSError:  # removed while we walked
                pass
    return FolderUsage(bytes=total)


def measure_storage(settings: Settings) -> StorageStatus:
    try:
        free = shutil.disk_usage(settings.outputs_dir).free
    except OSError:
        free = None
    return StorageStatus(uploads=_folder_usage(Path(settings.uploads_dir)),
                         outputs=_folder_usage(Path(settings.outputs_dir)),
                         disk_free_bytes=free)


class ServiceViews:
    """One web process's background-refreshed broker and storage views."""

    def __init__(self, settings: Settings) -> None:
        self.broker: Refreshing[BrokerStatus] = Refreshing(
            lambda: ask_broker(settings), refresh_after_s=BROKER_REFRESH_S,
            first_wait_s=FIRST_WAIT_S, name="broker")
        self.storage: Refreshing[StorageStatus] = Refreshing(
            lambda: measure_storage(settings), refresh_after_s=STORAGE_REFRESH_S,
            first_wait_s=FIRST_WAIT_S, name="storage")

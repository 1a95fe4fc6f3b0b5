"""The embedded queue: kombu's filesystem transport, with messages that appear whole or not at all.

kombu's own filesystem channel creates a message file in the queue folder and then writes into
it, while a consumer in another process takes any file it finds there: a consumer that comes at
the wrong moment reads an empty or half-written file, fails to decode it, and the message (a job)
is gone. This channel writes each message into a staging folder beside the queue and renames it
into the queue when complete (a rename within one file system is atomic), and takes a message by
renaming it into a claim folder first, so two consumers never read the same file.

Used through ``broker_transport = "workers.fsqueue:Transport"`` with the ``filesystem://`` URL
and these extra transport options: ``staging_folder`` and ``claimed_folder`` (both on the same
file system as the queue folder).
"""
from __future__ import annotations

import os
import uuid
from time import monotonic_ns

from kombu.transport import filesystem
from kombu.transport.virtual import Empty
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads


class Channel(filesystem.Channel):
    @property
    def staging_folder(self) -> str:
        return self.transport_options["staging_folder"]

    @property
    def claimed_folder(self) -> str:
        return self.transport_options["claimed_folder"]

    def _put(self, queue: str, payload: dict, **kwargs) -> None:
        """Write the message beside the queue, then rename it in: a reader sees all or nothing."""
        # Zero-padded nanoseconds: names sort in the order the messages were sent (kombu's
        # milliseconds let two messages of one millisecond come out in either order).
        name = f"{monotonic_ns():020d}_{uuid.uuid4()}.{queue}.msg"
        staged = os.path.join(self.staging_folder, name)
        try:
            with open(staged, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(staged, os.path.join(self.data_folder_out, name))
        except OSError as exc:
            try:
                os.unlink(staged)
            except OSError:
                pass
            raise filesystem.ChannelError(f"cannot add message {name!r} to the queue: {exc}") from exc

    def _get(self, queue: str) -> dict:
        """Take the oldest message of ``queue``: rename it out of the queue (one consumer wins),
        read it, delete it."""
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
            return loads(bytes_to_str(payload))
        raise Empty()


class Transport(filesystem.Transport):
    Channel = Channel

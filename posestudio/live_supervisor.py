"""The live server that ``posestudio serve`` runs beside the web app and the worker, restarted
when it dies (1 s, then 2, 4, ... up to 30 s while it keeps dying young), while the web app and
the worker go on; meanwhile the /live page says the live server is not available. Live sessions
die with it (the pages open new ones once it is back): they hold nothing worth recovering.
"""
from __future__ import annotations

import subprocess
import sys
import time
from typing import Callable

from config import LiveSettings
from posestudio import process_groups
from posestudio.commands.live import live_command

def _say(message: str) -> None:
    print(f"posestudio serve: {message}", file=sys.stderr, flush=True)


class LiveSupervisor:
    """Start with :meth:`start`, keep alive with :meth:`tick` (from serve's loop), :meth:`stop`."""

    def __init__(self, live: LiveSettings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.live = live
        self.proc: subprocess.Popen | None = None
        self._backoff = process_groups.RestartBackoff(clock)

    def start(self) -> None:
        host, port = self.live.host_port
        self.proc = process_groups.spawn(live_command(host, port))
        self._backoff.started()
        _say(f"live server started on {self.live.url} (pid {self.proc.pid})")

    def tick(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            code = self.proc.returncode
            process_groups.kill_group(self.proc)
            lived_s, delay = self._backoff.died()
            _say(f"the live server exited with code {code} after {lived_s:.0f} s; restarting it in {delay:.0f} s")
            self.proc = None
        elif self.proc is None and self._backoff.due():
            self.start()

    def stop(self) -> None:
        if self.proc is not None:
            process_groups.kill_group(self.proc)
            self.proc = None

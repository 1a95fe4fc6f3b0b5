"""The Celery worker that ``posestudio serve`` runs: restarted when it dies, its jobs recovered.

Each start gets a new node name (:func:`posestudio.commands.worker.new_node_name`). When the
worker process exits on its own (killed, crashed, out of memory), the supervisor

1. kills what is left of its process group (prefork pool processes outlive their parent and
   would go on running and heartbeating the job), and waits until the group is gone;
2. declares that node name dead: ``workers.recovery.recover(dead_workers=(name,))`` requeues the
   jobs it was running (attempts + 1, failed with a reason after the last attempt) and enqueues
   them. A recovery that fails (the database or the broker is away) is logged and tried again
   before the next start, and again at every start until it succeeds;
3. starts a new worker after a back-off: 1 s, then 2, 4, ... up to :data:`~posestudio.process_groups.MAX_BACKOFF_S`
   while the worker keeps dying young, and 1 s again once a worker had stayed up
   :data:`~posestudio.process_groups.STABLE_AFTER_S` (``process_groups.RestartBackoff``).

:meth:`WorkerSupervisor.tick` does all of this without blocking for long, from serve's loop;
the web server keeps serving meanwhile. :meth:`WorkerSupervisor.stopped` declares the last
worker dead after serve stopped it, so a job it was running is queued again for the next start.
"""
from __future__ import annotations

import subprocess
import sys
import time
from typing import Callable

from config import Settings
from posestudio import process_groups
from posestudio.commands.worker import new_node_name, worker_command



def _say(message: str, command: str = "posestudio serve") -> None:
    print(f"{command}: {message}", file=sys.stderr, flush=True)


class WorkerSupervisor:
    """One Celery worker at a time, started with :meth:`start` and kept alive by :meth:`tick`.

    ``recover`` is ``workers.recovery.recover`` (a parameter so that the serve process imports
    Celery and the job store only when a worker died); ``clock`` is ``time.monotonic``.
    """

    def __init__(self, settings: Settings, concurrency: int, *,
                 recover: Callable[..., list[str]] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 env: dict[str, str] | None = None, kind: str | None = None,
                 command: str = "posestudio serve") -> None:
        self.settings, self.concurrency = settings, concurrency
        self.env, self.kind = env, kind  # the worker's environment, its node name's kind ("gpu0")
        self.command = command  # who says what happens, on stderr
        self._recover = recover
        self.proc: subprocess.Popen | None = None
        self.node_name: str | None = None
        self._backoff = process_groups.RestartBackoff(clock)
        self.dead_nodes: list[str] = []  # declared dead, their jobs not recovered yet

    def start(self) -> None:
        self.node_name = new_node_name(self.kind)
        self.proc = process_groups.spawn(worker_command(self.concurrency, self.node_name), env=self.env)
        self._backoff.started()
        self._say(f"worker {self.node_name} started (pid {self.proc.pid})")

    def _say(self, message: str) -> None:
        _say(message, self.command)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tick(self) -> None:
        """Notice a dead worker (clean up, recover, schedule the restart) or restart one."""
        if self.proc is not None and self.proc.poll() is not None:
            self._buried(self.proc.returncode)
        elif self.proc is None and self._backoff.due():
            self.recover_dead()
            self.start()

    def _buried(self, code: int) -> None:
        process_groups.kill_group(self.proc)
        self.dead_nodes.append(self.node_name)
        lived_s, delay = self._backoff.died()
        self._say(f"worker {self.node_name} exited with code {code} after {lived_s:.0f} s; "
                  f"restarting it in {delay:.0f} s")
        self.proc = None
        self.recover_dead()

    def recover_dead(self) -> None:
        """Requeue the running jobs of every worker declared dead; on failure keep them for later."""
        if not self.dead_nodes:
            return
        try:
            recover = self._recover
            if recover is None:
                from workers.recovery import recover
            sent = recover(self.settings, dead_workers=tuple(self.dead_nodes))
        except Exception as exc:  # the database or the broker is away: try again later
            self._say(f"could not recover the jobs of {', '.join(self.dead_nodes)} "
                 f"({type(exc).__name__}: {exc}); trying again at the next worker start")
            return
        if sent:
            self._say(f"sent {len(sent)} job(s) of {', '.join(self.dead_nodes)} to the queue again: "
                 f"{', '.join(sent)}")
        self.dead_nodes.clear()

    def stopped(self) -> None:
        """After serve stopped the worker (and its group is gone): declare its node dead."""
        if self.proc is not None:
            process_groups.kill_group(self.proc)
            self.dead_nodes.append(self.node_name)
            self.proc = None
        self.recover_dead()

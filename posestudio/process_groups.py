"""Child processes in process groups of their own, and making sure such a group is gone.

``posestudio serve`` starts the web server and the worker each as the leader of a new process
group (``start_new_session``), so a terminal's Ctrl-C reaches only serve, and everything a
child started (gunicorn's workers, Celery's pool processes) can be stopped together, even after
the leader itself died and left its children behind.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable

import config


def spawn(command: list[str], *, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start ``command`` in the project folder as the leader of a new process group, with
    ``env`` (default: this process's environment)."""
    return subprocess.Popen(command, cwd=config.ROOT, start_new_session=True, env=env)


def send(proc: subprocess.Popen, signum: int) -> None:
    """Send ``signum`` to ``proc`` if it is still running."""
    if proc.poll() is None:
        try:
            proc.send_signal(signum)
        except ProcessLookupError:
            pass


def wait_all(procs, timeout_s: float) -> None:
    """Wait until every process in ``procs`` has exited, or ``timeout_s`` has passed."""
    deadline = time.monotonic() + timeout_s
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass


def stop_all(procs, grace_s: float, *, cold=()) -> None:
    """A graceful stop: SIGTERM to every process of ``procs``, up to ``grace_s`` for them to
    exit; then SIGQUIT to those of ``cold`` (Celery workers: a cold shutdown) and up to 5 s more.
    Whatever is left is the caller's to kill (:func:`kill_group`)."""
    for proc in procs:
        send(proc, signal.SIGTERM)
    wait_all(procs, grace_s)
    for proc in cold:
        send(proc, signal.SIGQUIT)
    wait_all(procs, 5.0)


def kill_group(proc: subprocess.Popen, *, timeout_s: float = 5.0) -> bool:
    """SIGKILL everything left in ``proc``'s process group (``proc`` leads it) and wait, for at
    most ``timeout_s``, until none of it is left; True when the group is gone.

    Members whose leader died were handed to init, which reaps them; where this process is
    init's stand-in (PID 1 in a container) it reaps them itself."""
    pgid = proc.pid
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    deadline = time.monotonic() + timeout_s
    while True:
        proc.poll()  # the leader is reaped by its Popen, which keeps its exit code
        _reap_own_members(pgid)
        try:
            os.killpg(pgid, 0)  # zombies count: the group is gone once they are reaped
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def _reap_own_members(pgid: int) -> None:
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid, ppid, group = int(entry.name), int(fields[1]), int(fields[2])
        if ppid == me and group == pgid and pid != pgid:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


class StopFlag:
    """True once SIGINT or SIGTERM arrived; installs the handlers and restores the old ones."""

    def __init__(self) -> None:
        self._stopped = False
        self._old = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}

    def _handle(self, signum: int, _frame: object) -> None:
        self._stopped = True

    def __bool__(self) -> bool:
        return self._stopped

    def restore(self) -> None:
        for signum, handler in self._old.items():
            signal.signal(signum, handler)


#: A supervised process's restarts wait FIRST_BACKOFF_S, doubling up to MAX_BACKOFF_S while it
#: keeps dying young; one that stayed up STABLE_AFTER_S had a good run and starts over.
FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
STABLE_AFTER_S = 60.0


class RestartBackoff:
    """When to restart a supervised process that died (see the constants above). Call
    :meth:`started` at each start, :meth:`died` when it exits; :meth:`due` says when to start
    again. ``clock`` is ``time.monotonic``."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._started_at = 0.0
        self._delay_s = FIRST_BACKOFF_S
        self._restart_at: float | None = None

    def started(self) -> None:
        self._started_at, self._restart_at = self._clock(), None

    def died(self) -> tuple[float, float]:
        """(seconds it lived, seconds until its restart); schedules the restart."""
        lived_s = self._clock() - self._started_at
        if lived_s >= STABLE_AFTER_S:
            self._delay_s = FIRST_BACKOFF_S
        delay, self._delay_s = self._delay_s, min(2 * self._delay_s, MAX_BACKOFF_S)
        self._restart_at = self._clock() + delay
        return lived_s, delay

    def due(self) -> bool:
        return self._restart_at is not None and self._clock() >= self._restart_at

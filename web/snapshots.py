"""Answers that are slow to get, kept fresh in the background so that no page waits for them.

The admin page and ``/metrics`` show the queue, the workers and the disk. Asking the broker
takes a second even when it is up (the workers get that long to answer a broadcast) and used to
take six when it is down; adding up the folders takes a while when they hold many jobs. A
:class:`Refreshing` value is computed in a background thread whenever it is older than
``refresh_after_s``, and readers get the last one at once: only the very first reader of a
process waits, at most ``first_wait_s``.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class Refreshing(Generic[T]):
    """The latest value of ``compute()`` (which must not raise: it should return its failure as
    a value), recomputed in a daemon thread when older than ``refresh_after_s`` seconds."""

    def __init__(self, compute: Callable[[], T], *, refresh_after_s: float, first_wait_s: float,
                 name: str) -> None:
        self._compute, self._name = compute, name
        self.refresh_after_s, self.first_wait_s = refresh_after_s, first_wait_s
        self._lock = threading.Lock()
        self._value: T | None = None
        self._at = 0.0
        self._done = threading.Event()
        self._running = False

    def get(self, *, wait: bool = True) -> tuple[T | None, float]:
        """(the latest value, its age in seconds); (None, inf) when there is none yet: after
        ``first_wait_s``, or at once unless ``wait``. Starts a refresh when it is missing or old."""
        with self._lock:
            stale = self._value is None or time.monotonic() - self._at > self.refresh_after_s
            if stale and not self._running:
                self._running = True
                self._done.clear()
                threading.Thread(target=self._refresh_in_background, name=f"refresh-{self._name}",
                                 daemon=True).start()
            waiting = self._value is None
        if waiting and wait:
            self._done.wait(self.first_wait_s)
        with self._lock:
            if self._value is None:
                return None, float("inf")
            return self._value, time.monotonic() - self._at

    def refresh(self) -> T:
        """Compute now, in this thread, and keep the result."""
        value = self._compute()
        with self._lock:
            self._value, self._at = value, time.monotonic()
        return value

    def _refresh_in_background(self) -> None:
        try:
            self.refresh()
        except Exception:  # compute() should not raise; keep the last value if it does
            log.exception("%s: could not refresh", self._name)
        finally:
            with self._lock:
                self._running = False
            self._done.set()

"""Threads joined by bounded queues, for overlapping the stages of the video pipeline.

``Stages`` runs a source (an iterable) and per-item workers in daemon threads. Queues are
bounded, so a fast stage waits for a slow one and memory stays flat. Order is preserved (one
thread per stage). The first exception in any stage stops every stage and is re-raised, as
itself, in the thread that reads the results or joins; leaving the ``with`` block stops and
joins all threads whatever happened.
"""
from __future__ import annotations

import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Callable, Iterable, Iterator

_END = object()
_POLL_S = 0.05


class StagesStopped(Exception):
    """Raised inside a stage thread when another stage failed or the run was abandoned."""


class Stages:
    """A set of pipeline threads; use as a context manager.

    queue_size: capacity of every queue between stages (default 4 items).
    in_flight: at most this many items between the source and the sink, wherever they are
        (queues, stage threads, pools); None (default) bounds only each queue. The source takes
        a slot before it takes each item from its iterable, and the sink (or the calling thread,
        with :meth:`done`) gives it back after its work on the item: for one source whose every
        item reaches one end, as in the video pipeline, where this bounds the memory of frames
        by their size.
    """

    def __init__(self, *, queue_size: int = 4, in_flight: int | None = None) -> None:
        if in_flight is not None and in_flight < 1:
            raise ValueError(f"in_flight must be at least 1, got {in_flight}")
        self.queue_size = queue_size
        self.in_flight = in_flight
        self._slots = threading.Semaphore(in_flight) if in_flight is not None else None
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._pools: list[ThreadPoolExecutor] = []

    # -- building -------------------------------------------------------------------------
    def source(self, name: str, make_items: Callable[[], Iterable[Any]]) -> "queue.Queue[Any]":
        """Iterate ``make_items()`` in a thread; returns the queue its items go to."""
        out: queue.Queue[Any] = queue.Queue(self.queue_size)

        def run() -> None:
            items = iter(make_items())
            try:
                while True:
                    self._take_slot()
                    try:
                        item = next(items)
                    except StopIteration:
                        self._give_slot()
                        break
                    self.put(out, item)
            finally:
                close = getattr(items, "close", None)
                if close is not None:
                    close()  # a generator's `with` blocks (an open file) end in this thread
            self.put(out, _END)

        self._start(name, run)
        return out

    def map(
        self, name: str, inbox: "queue.Queue[Any]", work: Callable[[Any], Any], *, workers: int = 1
    ) -> "queue.Queue[Any]":
        """Apply ``work`` to each item of ``inbox``; returns the output queue, in input order.

        workers: threads running ``work`` at once (default 1). With more, items are handed to a
        pool and their results are still delivered in order (for a backend that runs several
        inferences in parallel).
        """
        out: queue.Queue[Any] = queue.Queue(self.queue_size)
        pool = ThreadPoolExecutor(workers, thread_name_prefix=f"pipeline-{name}") if workers > 1 else None
        if pool is not None:
            self._pools.append(pool)

        def run() -> None:
            for item in self.iterate(inbox):
                self.put(out, work(item) if pool is None else _Pending(pool.submit(work, item)))
            self.put(out, _END)

        self._start(name, run)
        return out

    def group(self, name: str, inbox: "queue.Queue[Any]", size: int) -> "queue.Queue[Any]":
        """Lists of up to ``size`` consecutive items of ``inbox`` (the last may be shorter), for
        a stage that works on batches. With ``in_flight`` set, ``size`` must not exceed it (a
        batch could never fill); each item still holds its own in-flight slot."""
        if size < 1 or (self.in_flight is not None and size > self.in_flight):
            raise ValueError(f"group size must be between 1 and in_flight ({self.in_flight}), got {size}")
        out: queue.Queue[Any] = queue.Queue(self.queue_size)

        def run() -> None:
            batch: list[Any] = []
            for item in self.iterate(inbox):
                batch.append(item)
                if len(batch) == size:
                    self.put(out, batch)
                    batch = []
            if batch:
                self.put(out, batch)
            self.put(out, _END)

        self._start(name, run)
        return out

    def sink(self, name: str, inbox: "queue.Queue[Any]", work: Callable[[Any], None]) -> None:
        """Consume ``inbox`` with ``work`` in a thread (e.g. the encoder)."""

        def run() -> None:
            for item in self.iterate(inbox):
                work(item)
                self._give_slot()

        self._start(name, run)

    def new_queue(self) -> "queue.Queue[Any]":
        return queue.Queue(self.queue_size)

    # -- moving items ---------------------------------------------------------------------
    def put(self, q: "queue.Queue[Any]", item: Any) -> None:
        """Put ``item``, waiting for room; raises StagesStopped (or the stage error) if stopped."""
        while True:
            self._raise_if_stopped()
            try:
                q.put(item, timeout=_POLL_S)
                return
            except queue.Full:
                continue

    def end(self, q: "queue.Queue[Any]") -> None:
        """Tell the stage reading ``q`` that no more items come."""
        self.put(q, _END)

    def iterate(self, q: "queue.Queue[Any]") -> Iterator[Any]:
        """Items of ``q`` until its end marker; raises the stage error if any stage fails."""
        while True:
            self._raise_if_stopped()
            try:
                item = q.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            if item is _END:
                return
            yield self._resolve(item) if isinstance(item, _Pending) else item

    def join(self) -> None:
        """Wait for every thread to finish; re-raise the first stage error."""
        for thread in self._threads:
            while thread.is_alive():
                thread.join(_POLL_S)
                self._raise_if_stopped(only_errors=True)
        self._raise_if_stopped(only_errors=True)

    def stop(self) -> None:
        self._stop.set()

    def __enter__(self) -> "Stages":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        for pool in self._pools:
            pool.shutdown(wait=True, cancel_futures=True)

    def result(self, future: Future) -> Any:
        """The result of ``future`` (e.g. from a process pool), waited for in the calling
        thread; raises its exception, or the stage error / StagesStopped if the run stops."""
        return self._resolve(_Pending(future))

    # -- internals ------------------------------------------------------------------------
    def done(self) -> None:
        """The calling thread is finished with an item it took from :meth:`iterate`: its
        in-flight slot is free again. For runs whose last stage is the calling thread (no sink)."""
        self._give_slot()

    def _take_slot(self) -> None:
        """Wait for an in-flight slot (if bounded); raises StagesStopped if the run stops."""
        if self._slots is None:
            return
        while True:
            self._raise_if_stopped()
            if self._slots.acquire(timeout=_POLL_S):
                return

    def _give_slot(self) -> None:
        if self._slots is not None:
            self._slots.release()

    def _start(self, name: str, body: Callable[[], None]) -> None:
        def guarded() -> None:
            try:
                body()
            except StagesStopped:
                pass
            except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
                with self._lock:
                    if self._error is None:
                        self._error = exc
                self._stop.set()

        thread = threading.Thread(target=guarded, name=f"pipeline-{name}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _resolve(self, pending: "_Pending") -> Any:
        """The result of a pooled work item; its exception is raised here, in the reader."""
        while True:
            self._raise_if_stopped()
            try:
                return pending.future.result(timeout=_POLL_S)
            except FutureTimeout:
                continue

    def _raise_if_stopped(self, *, only_errors: bool = False) -> None:
        if self._error is not None:
            if threading.current_thread() in self._threads:
                raise StagesStopped()
            raise self._error
        if self._stop.is_set() and not only_errors:
            raise StagesStopped()


class _Pending:
    """A work item running in a pool; queued in input order so results come out in order."""

    __slots__ = ("future",)

    def __init__(self, future: Future) -> None:
        self.future = future

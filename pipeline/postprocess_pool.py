"""Pass 1's post-processing (heatmap peaks and PAF assembly) in a pool of processes.

Peak finding and assembly are numpy and Python code that holds the GIL for much of its time,
so threads would take turns; processes run side by side. Each process builds one
:class:`pose.assembly.NetworkOutputParser` (it reuses its buffers) and turns one frame's
network output into people, exactly as :meth:`pose.PoseEstimator.postprocess` does in-process
(the same function, :func:`pose.estimator.people_from_output`). Results come back as futures,
which the caller reads in frame order.

Processes start from a fork server (``forkserver``): a clean process, started once per parent
process, with this module and its imports (numpy, OpenCV) loaded, which forks each worker. So
a worker never inherits the parent's threads or locks (forking a process that runs decode and
inference threads, as a Celery pool process does, can copy a held lock), and starts in a few
milliseconds instead of importing OpenCV again as ``spawn`` would. Leaving the ``with`` block
waits for the frames being worked on, drops the rest, and joins every process, whatever
happened (an error, a cancel); a pool process that is killed (out of memory) fails the run with
``BrokenProcessPool``, and when the job's own process is killed, its pool's processes exit
within moments (each watches a pipe whose other end only the job's process holds).

The fork server re-imports the program's ``__main__`` module in each worker, as ``spawn``
does: a script that runs the pipeline must do so under ``if __name__ == "__main__":``
(``posestudio``, Celery and the bench scripts do).

A Celery prefork pool process is daemonic, and multiprocessing refuses children to a daemonic
process: ``workers.tasks`` marks its pool processes non-daemonic when they start.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.connection import Connection

import cv2
import numpy as np

from pose import Person
from pose.assembly import OPENPOSE_LAYOUT, AssemblyParams, NetworkOutputParser, PafLayout
from pose.estimator import people_from_output
from pose.preprocess import InputGeometry

START_METHOD = "forkserver"

_parser: NetworkOutputParser | None = None  # this worker process's own, built at its start


def _start_worker(upsample: int, params: AssemblyParams, job_alive: Connection,
                  layout: PafLayout = OPENPOSE_LAYOUT) -> None:
    global _parser
    cv2.setNumThreads(1)  # one core each: the pool is the parallelism
    _parser = NetworkOutputParser(upsample=upsample, params=params, layout=layout)
    threading.Thread(target=_exit_with_the_job, args=(job_alive,), name="watch-job", daemon=True).start()


def _exit_with_the_job(job_alive: Connection) -> None:
    """Nothing is ever sent: ``recv`` returns (EOF) once the job's process is gone, however it
    ended (a SIGKILL from a hard time limit or the OOM killer included); then so does this one.
    Without it, the pool's processes would wait for work for ever (each holds its queue's
    writing end too, so they never see its end)."""
    try:
        job_alive.recv()
    except (EOFError, OSError):
        pass
    os._exit(0)


def _postprocess(raw: np.ndarray, geometry: InputGeometry) -> tuple[list[Person], float]:
    """One frame's people (best first) and the seconds this process worked on them."""
    t0 = time.perf_counter()
    assert _parser is not None, "the pool's initializer builds the parser"
    people = people_from_output(_parser, raw, geometry)
    return people, time.perf_counter() - t0


class PostprocessPool:
    """``workers`` processes turning network outputs into people; use as a context manager.

    upsample / params / layout: as the :class:`pose.PoseEstimator` whose outputs are post-processed.
    """

    def __init__(self, workers: int, *, upsample: int, params: AssemblyParams,
                 layout: PafLayout = OPENPOSE_LAYOUT) -> None:
        if workers < 1:
            raise ValueError(f"a post-processing pool needs at least 1 process, got {workers}")
        self.workers = workers
        context = multiprocessing.get_context(START_METHOD)
        context.set_forkserver_preload([__name__])  # effective for a fork server not started yet
        job_alive, self._alive = context.Pipe(duplex=False)  # this process keeps the writing end
        self._executor = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                                             initargs=(upsample, params, job_alive, layout))

    def submit(self, raw: np.ndarray, geometry: InputGeometry) -> "Future[tuple[list[Person], float]]":
        """Post-process one frame's output (float32 [h/8, w/8, 57]); the future gives its people
        in source pixels, best first, and the seconds of work."""
        return self._executor.submit(_postprocess, raw, geometry)

    def pids(self) -> list[int]:
        """Process ids of the pool's processes (started as work arrives), for tests and stats."""
        return list(getattr(self._executor, "_processes", None) or {})

    def close(self) -> None:
        """Drop the work not started, wait for the rest, and join every process."""
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._alive.close()

    def __enter__(self) -> "PostprocessPool":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

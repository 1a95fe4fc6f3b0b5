"""``posestudio worker --gpus``: one Celery worker per GPU on this host, each seeing only its own.

One worker per GPU, not one worker for all of them: each worker's pool processes load the
model once onto the one device they see (``CUDA_VISIBLE_DEVICES``), so a job never has to
choose a GPU, and ``WORKER_CONCURRENCY`` (``--concurrency``) reads as jobs *per GPU*: 2 to 3
keep a GPU fed while one job decodes or encodes (``bench/gpu.py`` measures it). Each worker is
named ``posestudio-gpu<I>-<8 hex>@<host>``, so the admin page and the job records say which
GPU a job ran on, and reports its device (``workers.housekeeping.device_description``).

Each worker is kept by a :class:`posestudio.worker_supervisor.WorkerSupervisor`, as
``posestudio serve`` keeps its one: restarted with a back-off when it dies, its running jobs
requeued. SIGTERM or SIGINT stops them all (warm shutdown, then SIGQUIT, then SIGKILL), and
their running jobs are queued again for the next start.
"""
from __future__ import annotations

import os
import sys
import time

from config import Settings
from posestudio import process_groups
from posestudio.worker_supervisor import WorkerSupervisor

GRACE_S = 25.0  # warm shutdown: a running job is given this long (compose waits 30 s)


def _say(message: str) -> None:
    print(f"posestudio worker: {message}", file=sys.stderr, flush=True)


def gpu_indexes(spec: str) -> list[int]:
    """``"all"`` -> every GPU nvidia-smi lists; ``"0,2"`` -> [0, 2] (checked against the list
    where nvidia-smi answers). Raises ValueError saying what is wrong."""
    from workers.gpus import GpuQueryError, list_gpus

    try:
        known = [gpu.index for gpu in list_gpus()]
    except GpuQueryError as exc:
        raise ValueError(str(exc)) from None
    text = spec.strip().lower()
    if text == "all":
        if not known:
            raise ValueError("--gpus all: nvidia-smi lists no GPU here (no NVIDIA driver? in a container, "
                             "the worker-gpu service's device reservation gives it the GPUs)")
        return known
    try:
        wanted = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--gpus must be all or GPU numbers separated by commas, got {spec!r}") from None
    if not wanted or any(i < 0 for i in wanted) or len(set(wanted)) != len(wanted):
        raise ValueError(f"--gpus must name each GPU once, by number from 0, got {spec!r}")
    missing = [i for i in wanted if known and i not in known]
    if missing:
        raise ValueError(f"--gpus {spec}: no GPU {', '.join(map(str, missing))} here; nvidia-smi lists "
                         f"{', '.join(map(str, known))}")
    return wanted


def gpu_environment(env, gpu: int) -> dict[str, str]:
    """The environment of GPU ``gpu``'s worker: it sees that GPU alone, as its GPU 0, so an
    INFERENCE_DEVICE of gpu or gpu:N (N named a GPU of the host) becomes gpu:0; auto and cpu stay."""
    child = {**env, "CUDA_VISIBLE_DEVICES": str(gpu)}
    if child.get("INFERENCE_DEVICE", "").strip().lower().startswith("gpu"):
        child["INFERENCE_DEVICE"] = "gpu:0"
    return child


def run_per_gpu(settings: Settings, concurrency: int, spec: str) -> int:
    """Run one supervised worker per GPU of ``spec`` until SIGTERM/SIGINT; the exit code."""
    try:
        gpus = gpu_indexes(spec)
    except ValueError as exc:
        _say(str(exc))
        return 2
    stop = process_groups.StopFlag()
    workers = [WorkerSupervisor(settings, concurrency, kind=f"gpu{i}", command="posestudio worker",
                                env=gpu_environment(os.environ, i)) for i in gpus]
    try:
        for gpu, worker in zip(gpus, workers):
            worker.start()
            _say(f"GPU {gpu}: node name {worker.node_name} ({concurrency} job(s) at once)")
        while not stop:
            for worker in workers:
                worker.tick()
            time.sleep(0.3)
        running = [w.proc for w in workers if w.proc is not None]
        process_groups.stop_all(running, GRACE_S, cold=running)
        return 0
    finally:
        for worker in workers:
            worker.stopped()  # kills what is left of its group; its running jobs are queued again
        stop.restore()

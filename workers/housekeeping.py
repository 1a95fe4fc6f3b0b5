"""The worker's part in running the service: what a run leaves behind, retention, and what the
worker tells the admin page. Connected to Celery's signals when the worker imports this module
(``workers.celery_app`` lists it in ``include``); ``workers.tasks`` knows nothing of it.

- When a job's run ends (``task_postrun``, in the pool process that ran it): the run is added to
  the service's totals for ``/metrics`` (``jobs.tallies``), and a succeeded job's uploaded
  video is deleted unless ``KEEP_UPLOADS`` (``jobs.retention``).
- The worker's main process runs a retention sweeper thread (``jobs.retention.sweep``: expired
  jobs, uploads of succeeded jobs, orphan folders), at start-up and every
  :data:`SWEEP_INTERVAL_S`. Several workers sweeping at once is harmless: each deletion is one
  conditional statement.
- ``posestudio_status``, a Celery inspect command: the ids of the jobs this worker is running
  and the device it runs them on, in one broadcast (``web.broker_view``).
"""
from __future__ import annotations

import logging
import os
import platform
import threading
from functools import lru_cache

from celery import signals
from celery.worker.control import inspect_command

from config import Settings

log = logging.getLogger(__name__)

#: Seconds between two retention sweeps of one worker.
SWEEP_INTERVAL_S = 3600.0
_sweeper_stop = threading.Event()


def _settings_of(app) -> Settings:  # noqa: ANN001 - a Celery app
    return getattr(app, "posestudio_settings", None) or Settings.from_env()


@signals.task_postrun.connect
def _after_run(sender=None, args=None, retval=None, **_kwargs) -> None:  # noqa: ANN001 - Celery API
    from workers.tasks import TASK_NAME

    if getattr(sender, "name", None) != TASK_NAME or not args:
        return
    try:
        after_run(_settings_of(sender.app), str(args[0]), str(retval))
    except Exception as exc:  # the run itself is recorded; a database hiccup must not fail the task
        from jobs import database_unavailable
        from jobs.store import first_line

        if database_unavailable(exc):  # one line: the retention sweep removes the upload later
            log.warning("job %s: the run's end is not counted in the totals, the job database does not "
                        "answer (%s)", args[0], first_line(exc))
        else:
            log.exception("job %s: could not record the run's end", args[0])


def after_run(settings: Settings, job_id: str, outcome: str) -> None:
    """A run of ``job_id`` returned ``outcome`` (``workers.tasks.process_job``'s return value):
    count it if it ended the job, and delete a succeeded job's upload unless kept."""
    from jobs import JobNotFound
    from jobs.retention import remove_upload
    from jobs.tallies import END_STATES, record_run
    from workers.tasks import store_for

    if outcome not in END_STATES:  # missing, skipped, abandoned, deleted: no run of ours ended it
        return
    store = store_for(settings)
    try:
        job = store.get(job_id)
    except JobNotFound:
        return
    if job.state.value != outcome:  # already requeued or changed by someone else
        return
    duration = ((job.finished_at - job.started_at).total_seconds()
                if job.finished_at and job.started_at else 0.0)
    frames = job.timings.get("frames_processed", job.frames_done) if outcome == "succeeded" else job.frames_done
    record_run(store, state=outcome, duration_s=duration, frames=int(frames or 0))
    if outcome == "succeeded" and not settings.keep_uploads:
        remove_upload(settings, job_id)


def sweep_once(settings: Settings) -> None:
    from jobs.retention import sweep
    from workers.tasks import store_for

    result = sweep(store_for(settings), settings)
    if result.expired or result.uploads_removed or result.orphans_removed:
        log.info("retention: %d job(s) expired, %d upload(s) of succeeded jobs and %d orphan "
                 "folder(s) removed", len(result.expired), len(result.uploads_removed),
                 len(result.orphans_removed))


#: How soon a retention sweep that found the job database away tries again.
DATABASE_RETRY_S = 60.0


def _sweep_forever(settings: Settings, interval_s: float) -> None:
    from jobs import database_unavailable
    from jobs.store import first_line

    while True:
        wait_s = interval_s
        try:
            sweep_once(settings)
        except Exception as exc:  # the database is away for a moment: a later pass tries again
            if database_unavailable(exc):
                wait_s = min(interval_s, DATABASE_RETRY_S)
                log.warning("retention sweep: the job database does not answer (%s); trying again "
                            "in %.0f s", first_line(exc), wait_s)
            else:
                log.exception("retention sweep failed; trying again in %.0f s", interval_s)
        if _sweeper_stop.wait(wait_s):
            return


@signals.worker_ready.connect
def _start_sweeper(sender=None, **_kwargs) -> None:  # noqa: ANN001 - Celery signal API
    _sweeper_stop.clear()
    threading.Thread(target=_sweep_forever, args=(_settings_of(getattr(sender, "app", None)),
                                                  SWEEP_INTERVAL_S),
                     name="retention-sweeper", daemon=True).start()


@signals.worker_init.connect
def _describe_device_early(sender=None, **_kwargs) -> None:  # noqa: ANN001 - Celery signal API
    """Work out the device description before the worker consumes: the first
    ``posestudio_status`` broadcast must be answered within the web's 1 s window, and finding
    the device (importing the backend, asking NVML) can take longer than that."""
    settings = _settings_of(getattr(sender, "app", None))
    device_description(settings.inference_backend, settings.inference_device)


@signals.worker_shutdown.connect
def _stop_sweeper(**_kwargs) -> None:
    _sweeper_stop.set()


@lru_cache(maxsize=1)
def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


@lru_cache(maxsize=8)
def device_description(backend: str, device: str = "auto") -> str:
    """Where this worker's jobs run, as the backend's availability here says (no model is loaded
    and no CUDA context made: safe in Celery's parent process), e.g. ``"CPU: Intel(R) Xeon(R) ...
    (2 cores), openvino"`` or ``"gpu:0: NVIDIA H200 (TensorRT, CUDA), onnxruntime"``; a device
    the backend cannot use says why."""
    import config
    from pose import PoseError
    from pose.backends import availability, resolve_device

    try:
        concrete = resolve_device(availability(backend), config.parse_device(device))
    except (PoseError, ValueError) as exc:
        return f"unusable: {exc}"
    if concrete.kind == "cpu":
        return f"CPU: {_cpu_name()} ({os.cpu_count()} cores), {backend}"
    return f"{concrete}: {availability(backend).device_names.get(str(concrete), 'GPU')}, {backend}"


def worker_description(settings: Settings) -> str:
    """What the admin page shows of a worker: its device (:func:`device_description`), the GPU
    of the host it was given (``CUDA_VISIBLE_DEVICES``, which ``posestudio worker --gpus`` sets
    per GPU, so its "gpu:0" is that GPU), its batch size and post-processing processes, e.g.
    ``"gpu:0: NVIDIA H200 (CUDA), onnxruntime (CUDA_VISIBLE_DEVICES=3), batch 32,
    post-processing auto"``."""
    text = device_description(settings.inference_backend, settings.inference_device)
    if settings.visible_gpus:
        text += f" (CUDA_VISIBLE_DEVICES={settings.visible_gpus})"
    return f"{text}, batch {settings.inference_batch}, post-processing {settings.postprocess_workers}"


@inspect_command()
def posestudio_status(state, **_kwargs) -> dict:  # noqa: ANN001 - Celery's control state
    """The worker's answer to ``web.broker_view``: {"jobs": [ids], "device": text, "concurrency": n}."""
    from celery.worker import state as worker_state

    settings = _settings_of(state.app)
    jobs = [str(request.args[0]) for request in list(worker_state.active_requests) if request.args]
    pool = getattr(state.consumer, "pool", None)
    return {"jobs": jobs, "device": worker_description(settings),
            "concurrency": getattr(pool, "num_processes", None) or settings.worker_concurrency}

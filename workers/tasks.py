"""Celery tasks: a thin adapter from a job id to :func:`pipeline.video.process_video`.

Tasks take job ids, never objects; everything else comes from the job store. The pose backend
and the store are created once per worker process, after the fork, on the first task.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from celery import Task, current_app, shared_task, signals
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded

import config
from config import Settings
from filenames import safe_file_name
from jobs import (Job, JobNotFound, JobState, JobStateError, JobStore, output_dir, remove_job_files,
                  upload_path)
from jobs.paths import DISK_FULL, disk_full, remove_partial_outputs
from jobs.store import database_unavailable, first_line
from workers.job_run import HEARTBEAT_INTERVAL_S, JobRun, until_recorded

if TYPE_CHECKING:  # the pipeline and the model are imported when a job runs, not on enqueue
    from pose import InferenceBackend
    from pipeline.execution import Execution
    from pipeline.video import PipelineOptions, PipelineResult

log = logging.getLogger(__name__)

TASK_NAME = "posestudio.process_job"
_per_process: dict[tuple, object] = {}
_locks: dict[int, threading.Lock] = {}
#: Process id -> why its device failed (pose.DeviceFailedError): a process whose GPU failed runs
#: no more jobs; it hands each one it still receives back to the queue.
_device_failed: dict[int, str] = {}
#: A job handed back by such a process waits this long first, so that while its worker still
#: takes messages (the request to stop may not have reached it) they do not bounce at full speed.
HAND_BACK_DELAY_S = 5.0


def enqueue_job(job_id: str, *, settings: Settings | None = None) -> None:
    """Send the job to the queue. ``settings`` picks the broker (default: the environment's).

    Raises ``kombu.exceptions.OperationalError`` (after about a second of retries) when the
    broker cannot be reached; the job then stays queued until a worker start re-sends it.
    """
    from workers.celery_app import app_for, celery_app

    app = celery_app if settings is None else app_for(settings)
    app.send_task(TASK_NAME, args=[job_id])


def _cached(kind: str, key: tuple, make):
    """One object per (process, kind, key): created lazily after the fork, never shared.
    Threads of one process wait for each other's creation (the preload thread and a job)."""
    pid = os.getpid()
    lock = _locks.setdefault(pid, threading.Lock())  # a fresh lock in every forked process
    full_key = (pid, kind, *key)
    with lock:
        if full_key not in _per_process:
            _per_process[full_key] = make()
        return _per_process[full_key]


def store_for(settings: Settings) -> JobStore:
    url, stale = settings.effective_database_url, settings.job_stale_after_s
    return _cached("store", (url, stale), lambda: JobStore(url, stale_after_s=stale))


def backend_for(settings: Settings, options: PipelineOptions) -> InferenceBackend:
    """The pose model these job options ask for (OpenPose's backend, or the BlazePose estimator),
    loaded once per worker process and tuned as the pipeline wants it."""
    from pipeline.video import load_pipeline_backend
    path = Path(settings.model_path)
    # BlazePose ignores the OpenPose settings: one graph per process, whatever they say.
    key = ((options.model, options.backend, options.precision, settings.inference_device, str(path))
           if options.model == "openpose" else (options.model, str(path)))

    def load() -> InferenceBackend:
        backend = load_pipeline_backend(options, path, device=config.parse_device(settings.inference_device))
        device = getattr(backend, "device", "cpu")
        log.info("pose model %s, backend %s (%s) on %s: %s (INFERENCE_DEVICE=%s)", options.model,
                 getattr(backend, "name", options.model), getattr(backend, "precision", "f32"), device,
                 getattr(backend, "device_name", device), settings.inference_device)
        return backend
    return _cached("backend", key, load)


def job_options(settings: Settings, values: dict) -> PipelineOptions:
    """The job's PipelineOptions; the backend defaults to the worker's ``INFERENCE_BACKEND``."""
    from pipeline.video import PipelineOptions
    return PipelineOptions.from_mapping({"backend": settings.inference_backend, **values})


def execution_for(settings: Settings) -> "Execution":
    """How this worker runs pass 1 (INFERENCE_BATCH, POSTPROCESS_WORKERS)."""
    from pipeline.execution import Execution
    return Execution.parse(batch_size=settings.inference_batch, postprocess_workers=settings.postprocess_workers)


def _settings(task: Task) -> Settings:
    return getattr(task.app, "posestudio_settings", None) or Settings.from_env()


def video_timings(result: PipelineResult) -> dict:
    """What a video run did, recorded with its result (the job's ``timings``)."""
    timings = {**result.timings, "frames_processed": result.frames_processed,
               "detections": result.detections, "tracks": result.tracks,
               "network_input": result.network_input}
    if result.warnings:
        timings["warnings"] = list(result.warnings)
    return timings


def output_keys() -> dict[str, str]:
    """Export file name -> the key it has in a job's ``outputs``."""
    from pipeline.exports import KEYPOINTS_CSV, KEYPOINTS_JSON, OPENPOSE_ZIP, TRACKS_MOT
    from pipeline.people_exports import ANGLES_CSV, PEOPLE_JSON
    from pipeline.people_reps import REPS_CSV
    from pipeline.video import ANNOTATED_VIDEO

    return {ANNOTATED_VIDEO: "video", KEYPOINTS_JSON: "keypoints_json", KEYPOINTS_CSV: "csv",
            OPENPOSE_ZIP: "openpose_zip", TRACKS_MOT: "mot", ANGLES_CSV: "angles_csv", PEOPLE_JSON: "people",
            REPS_CSV: "reps_csv"}


def outputs_of(result: PipelineResult) -> dict:
    """The finished run's files as names relative to its folder, keyed by what they are
    (``video``, ``keypoints_json``, ``csv``, ``openpose_zip``, ``mot``, ``angles_csv``,
    ``people``, ``poster``, ``screenshots``: a list), as the web app serves them."""
    outputs: dict = {output_keys().get(name, name): name for name in result.files}
    if result.poster:
        outputs["poster"] = result.poster
    outputs["screenshots"] = list(result.screenshots)
    return outputs


class JobTask(Task):
    """Records a hard time limit (the process is killed, so only the parent can) as a failure."""

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:  # noqa: ANN001 - Celery API
        if isinstance(exc, TimeLimitExceeded) and args:
            limit = _settings(self).job_hard_time_limit_s
            store_for(_settings(self)).mark_failed(
                args[0], error=f"stopped: the job took longer than the hard time limit "
                               f"({limit // 60} min); try a shorter clip or a smaller network size")


@signals.worker_process_init.connect
def _allow_child_processes(**_kwargs) -> None:
    """Let the pipeline's post-processing pool (POSTPROCESS_WORKERS) start processes from this
    pool process. billiard makes it daemonic, and multiprocessing refuses children to a
    daemonic process ("daemonic processes are not allowed to have children"); and its
    authentication key is billiard's own type, which multiprocessing's fork server cannot be
    handed ("Pickling an AuthenticationString object is disallowed"). Both are this process's
    view of itself: its parent still ends it, and the pool's processes end with their job
    (pipeline.postprocess_pool)."""
    process = multiprocessing.current_process()
    process.daemon = False
    process._config["authkey"] = multiprocessing.process.AuthenticationString(bytes(process.authkey))


@signals.worker_process_init.connect
def _preload_backend(**_kwargs) -> None:
    """As soon as a pool process starts, load the default backend in the background, so its
    first job does not pay for it (a job that comes sooner waits for this same load)."""
    settings = getattr(current_app, "posestudio_settings", None) or Settings.from_env()

    def load() -> None:
        try:
            backend_for(settings, job_options(settings, {}))
        except Exception:  # the first job loads it again and reports the error on the job
            log.exception("could not preload the pose backend")

    threading.Thread(target=load, name="preload-backend", daemon=True).start()


@shared_task(bind=True, base=JobTask, name=TASK_NAME, ignore_result=True,
             acks_late=True, reject_on_worker_lost=True)
def process_job(self: Task, job_id: str) -> str:
    """Run one job; returns the state it ended in (for logs). Safe to deliver twice."""
    settings = _settings(self)
    store = store_for(settings)
    try:
        job = store.get(job_id)
    except JobNotFound:
        log.info("job %s: deleted before it ran", job_id)
        return "missing"
    except Exception as exc:
        if database_unavailable(exc):
            return _database_away(job_id, settings, exc)
        raise
    if job.state != JobState.QUEUED:  # a second delivery, or cancelled while queued
        log.info("job %s: already %s; nothing to do", job_id, job.state.value)
        return job.state.value
    if os.getpid() in _device_failed:
        log.warning("job %s: not run here, this process's GPU failed (%s); sent back to the queue", job_id,
                    _device_failed[os.getpid()])
        time.sleep(HAND_BACK_DELAY_S)
        enqueue_job(job_id, settings=settings)
        return "handed back"
    try:
        options = job_options(settings, job.options)
    except ValueError as exc:
        store.mark_failed(job_id, error=f"invalid options: {exc}")
        return JobState.FAILED.value
    try:
        backend = backend_for(settings, options)
    except Exception as exc:  # ModelLoadError, BackendUnavailableError: nothing will run
        log.exception("job %s: could not load the pose model", job_id)
        # The reason helps ("... not found: run `posestudio fetch-model`"); the server's folders
        # are no business of the job page, so the model file is named without them.
        model = Path(settings.model_path)
        reason = str(exc).replace(str(model), model.name).replace(str(model.parent) + os.sep, "")  # and its .onnx
        store.mark_failed(job_id, error=f"the worker could not load the pose model: {reason}")
        return JobState.FAILED.value
    try:
        job = store.mark_running(job_id, worker=self.request.hostname or "worker")
    except (JobStateError, JobNotFound) as exc:
        log.info("job %s: not started: %s", job_id, exc)
        return "skipped"
    except Exception as exc:
        if database_unavailable(exc):
            return _database_away(job_id, settings, exc)
        raise
    try:
        return _run(store, job, settings, options, backend, hostname=self.request.hostname)
    except JobNotFound:  # deleted while it ran: whatever the run wrote goes too
        remove_job_files(settings, job_id)
        log.info("job %s: deleted while it ran; its results were discarded", job_id)
        return "deleted"


def _database_away(job_id: str, settings: Settings, exc: Exception) -> str:
    """The job database did not answer as the job was looked up or claimed: nothing was written,
    so the job is still queued. Its message goes back to the queue after
    :data:`HAND_BACK_DELAY_S`, so that it runs once the database answers; if the broker refuses
    it too, the sweeper sends the job again (``workers.recovery``). One line each, no traceback."""
    log.warning("job %s: the job database does not answer (%s); the job stays queued and is sent again "
                "in %.0f s", job_id, first_line(exc), HAND_BACK_DELAY_S)
    time.sleep(HAND_BACK_DELAY_S)
    try:
        enqueue_job(job_id, settings=settings)
    except Exception as send_exc:  # noqa: BLE001 - the broker is away too: the sweeper sends it
        log.warning("job %s: could not be sent again either (%s); the worker's sweep will send it",
                    job_id, first_line(send_exc))
    return "database away"


OUTPUTS_UNWRITABLE = ("the server could not write this job's results ({reason}); this is not a problem "
                      "with your video: the server's storage needs its administrator, then retry the job")


def storage_failure(exc: BaseException, outputs_dir: Path) -> str | None:
    """Why the server's storage failed a run (the OS's words: "No space left on device"), or
    None when ``exc`` is not about the server's storage. A full disk is the server's wherever it
    happens (a failed ``write()`` names no file); another OSError is, when it names a path
    inside the outputs folder; a video or screenshot that could not be written because the disk
    is full says which file."""
    from videoio import VideoWriteError

    if isinstance(exc, VideoWriteError):
        return str(exc) if exc.errno in DISK_FULL else None
    if isinstance(exc, OSError) and (disk_full(exc) or _under(exc, outputs_dir)):
        return exc.strerror or str(exc)
    return None


def _under(exc: OSError, folder: Path) -> bool:
    """Whether ``exc`` is about a path inside ``folder`` (the outputs folder: the server's side)."""
    name = exc.filename or ""
    try:
        return Path(name).resolve().is_relative_to(Path(folder).resolve()) if name else False
    except (OSError, ValueError):
        return False


def _device_failure(store: JobStore, job: Job, settings: Settings, exc: Exception, *, hostname: str | None) -> str:
    """The GPU failed mid-job: the job goes back to the queue for another worker (as when a
    worker dies: attempts + 1, failed after the last), this process runs no more jobs, and its
    worker is asked to stop taking them (Celery's cancel_consumer, to this node only)."""
    from workers.recovery import MAX_ATTEMPTS

    _device_failed[os.getpid()] = str(exc)
    log.error("job %s: %s; the job goes back to the queue and this worker takes no more jobs", job.id, exc)
    reason = (f"the worker's GPU failed on attempt {job.attempts} of {MAX_ATTEMPTS} ({exc}); no attempt is left")
    requeued = store.requeue_running(job.id, claim=job.claim, max_attempts=MAX_ATTEMPTS, reason=reason)
    if requeued:
        enqueue_job(job.id, settings=settings)
        store.mark_sent(job.id)
    if hostname:
        try:
            from workers.celery_app import app_for
            app = app_for(settings)
            for queue in app.amqp.queues:
                app.control.cancel_consumer(queue, destination=[hostname])
        except Exception:  # noqa: BLE001 - best effort; this process refuses jobs anyway
            log.exception("could not ask worker %s to stop taking jobs", hostname)
    return "requeued" if requeued else JobState.FAILED.value


def _run(store: JobStore, job: Job, settings: Settings, options: PipelineOptions,
         backend: InferenceBackend, *, hostname: str | None = None) -> str:
    from pose import DeviceFailedError, PoseError
    from videoio import VideoError
    from workers.image_job import photos_of, record_of_images
    from pipeline.images import process_images
    from workers.multiview_job import record_of_views, run_views
    from pipeline.video import PipelineCancelled, process_video

    out = output_dir(settings, job.id)
    claim = job.claim

    def record(write, **values) -> bool:  # noqa: ANN001 - a JobStore.mark_* method
        """The run's last write, waiting for the job database if it is away for a moment."""
        return until_recorded(lambda: write(job.id, claim=claim, **values), what=f"job {job.id}: result")
    # Left by an earlier run of this job that was killed; only the run holding the job's claim
    # gets here, so no live run of the same job is using them.
    remove_partial_outputs(out)
    beat = min(HEARTBEAT_INTERVAL_S, settings.job_stale_after_s / 6)
    with JobRun(store, job.id, claim, heartbeat_interval_s=beat) as run:
        try:
            if job.kind == "multiview":
                result = run_views(job, settings, out, options, backend, run, execution=execution_for(settings))
            elif job.kind == "images":
                result = process_images(photos_of(job, settings), out, options, backend=backend,
                                        on_progress=run.on_progress, should_cancel=run.should_cancel,
                                        limits=settings.limits)
            else:
                result = process_video(upload_path(settings, job.id), out, options, backend=backend,
                                       on_progress=run.on_progress, should_cancel=run.should_cancel,
                                       source_name=safe_file_name(job.source_name), limits=settings.limits,
                                       execution=execution_for(settings))
        except PipelineCancelled:
            if run.claim_lost:
                log.warning("job %s: this run lost its claim (declared dead); stopped", job.id)
                return "abandoned"
            record(store.mark_cancelled)
            return JobState.CANCELLED.value
        except DeviceFailedError as exc:
            return _device_failure(store, job, settings, exc, hostname=hostname)
        except (VideoError, ValueError, PoseError) as exc:
            reason = storage_failure(exc, settings.outputs_dir)
            if reason is not None:  # the server's disk, not the video
                log.error("job %s: cannot write its results: %s", job.id, exc)
            record(store.mark_failed, error=str(exc) if reason is None else OUTPUTS_UNWRITABLE.format(reason=reason))
            return JobState.FAILED.value
        except SoftTimeLimitExceeded:
            record(store.mark_failed, error=(
                f"stopped: the job took longer than the time limit "
                f"({settings.job_soft_time_limit_s // 60} min); try a shorter clip or a smaller "
                "network size"))
            return JobState.FAILED.value
        except Exception as exc:  # noqa: BLE001 - recorded on the job; the log has the traceback
            reason = storage_failure(exc, settings.outputs_dir)
            if reason is not None:
                # The server's storage, not the video: say so (without the server's folders).
                log.error("job %s: cannot write its results: %s", job.id, exc)
                record(store.mark_failed, error=OUTPUTS_UNWRITABLE.format(reason=reason))
                return JobState.FAILED.value
            log.exception("job %s: unexpected error", job.id)
            record(store.mark_failed, error=(
                f"internal error while processing the video ({type(exc).__name__}); "
                "the worker log has the details"))
            return JobState.FAILED.value
    extra = {}
    if job.kind == "images":
        outputs, timings = record_of_images(job, result)
    elif job.kind == "multiview":
        outputs, timings = record_of_views(job, result)
    else:
        outputs, timings = outputs_of(result), video_timings(result)
        extra["frames_done"] = result.frames_processed
    if not record(store.mark_succeeded, outputs=outputs, timings=timings, **extra):
        log.warning("job %s: finished, but this run had lost its claim; result not recorded", job.id)
        return "abandoned"
    return JobState.SUCCEEDED.value


from workers import recovery as _recovery  # noqa: E402,F401 - connects the worker signals

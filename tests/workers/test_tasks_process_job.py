"""The ``process_job`` task body, called in this process (no broker) with the real pipeline and
model on a real clip: the paths the queue tests do not reach cheaply."""
from __future__ import annotations

import shutil
import threading
import time

import pytest
from celery.exceptions import TimeLimitExceeded

from config import Settings
from jobs import JobState, JobStore, output_dir, upload_path
from output_folders import list_outputs
from workers.celery_app import create_celery
from workers.job_run import JobRun
from workers.tasks import TASK_NAME

pytestmark = pytest.mark.model
CLIP = "mmaction2_test_video_structuralize.mp4"


@pytest.fixture(scope="module")
def env(tmp_path_factory, model_path):
    root = tmp_path_factory.mktemp("tasks")
    settings = Settings(instance_dir=root / "instance", uploads_dir=root / "uploads",
                        outputs_dir=root / "outputs", model_path=model_path, secret_key="t",
                        job_hard_time_limit_s=600)
    app = create_celery(settings)
    store = JobStore(settings.effective_database_url)
    yield settings, app.tasks[TASK_NAME], store
    store.close()


def _submit(env, videos_dir, options):
    settings, _task, store = env
    job = store.create_job(source_name=CLIP, options=options, owner=None, source_meta={})
    upload_path(settings, job.id).parent.mkdir(parents=True)
    shutil.copyfile(videos_dir / CLIP, upload_path(settings, job.id))
    return job


def test_runs_once_then_a_second_delivery_is_a_no_op(env, videos_dir):
    settings, task, store = env
    job = _submit(env, videos_dir, {"net_height": 184, "end_s": 0.3})
    assert task(job.id) == "succeeded"
    done = store.get(job.id)
    assert done.state is JobState.SUCCEEDED and done.worker and done.frames_done == 9
    assert done.outputs["video"] == "annotated.mp4" and done.timings["frames_processed"] == 9
    assert set(done.outputs) == {"video", "keypoints_json", "csv", "openpose_zip", "mot", "poster",
                                 "screenshots", "angles_csv", "people", "reps_csv"}
    names = [n for v in done.outputs.values() for n in (v if isinstance(v, list) else [v])]
    assert len(names) >= 7 and all((output_dir(settings, job.id) / n).is_file() for n in names)
    assert list_outputs(output_dir(settings, job.id)) == done.outputs
    assert task(job.id) == "succeeded"  # delivered again: nothing rewritten
    assert store.get(job.id).finished_at == done.finished_at
    assert task("no-such-job") == "missing"


def test_bad_options_missing_upload_and_cancelled_while_queued(env, videos_dir):
    settings, task, store = env
    bad = store.create_job(source_name="x.mp4", options={"net_height": 100}, owner=None, source_meta={})
    assert task(bad.id) == "failed"
    assert "net_height must be a multiple of 8" in store.get(bad.id).error
    gone = store.create_job(source_name="x.mp4", options={}, owner=None, source_meta={})
    assert task(gone.id) == "failed"
    assert "file not found" in store.get(gone.id).error
    cancelled = _submit(env, videos_dir, {})
    store.request_cancel(cancelled.id)
    assert task(cancelled.id) == "cancelled"
    assert not output_dir(settings, cancelled.id).exists()


def test_a_run_that_lost_its_claim_stops_and_records_nothing(env, videos_dir):
    settings, task, store = env
    job = _submit(env, videos_dir, {"net_height": 184, "end_s": 6.0})
    result = {}
    runner = threading.Thread(target=lambda: result.setdefault("state", task(job.id)))
    runner.start()
    deadline = time.monotonic() + 60
    while not (store.get(job.id).frames_done > 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    # Declared dead (as if its heartbeat had gone stale): the job goes back to the queue.
    assert store.recover_orphans(dead_workers=[store.get(job.id).worker]) == [job.id]
    runner.join(timeout=30)
    assert result["state"] == "abandoned"
    after = store.get(job.id)
    assert after.state is JobState.QUEUED and after.attempts == 2 and after.outputs == {}
    assert not output_dir(settings, job.id).exists()
    assert list(output_dir(settings, job.id).parent.glob(f".{job.id}*")) == []


def test_hard_time_limit_is_recorded_as_a_failure(env, videos_dir):
    settings, task, store = env
    job = _submit(env, videos_dir, {})
    store.mark_running(job.id, worker="w")
    # What the worker's main process calls after killing a pool process at the hard limit.
    task.on_failure(TimeLimitExceeded(600), "task-id", (job.id,), {}, None)
    failed = store.get(job.id)
    assert failed.state is JobState.FAILED and "hard time limit (10 min)" in failed.error


def test_job_run_throttles_progress_and_sees_cancel(env, videos_dir):
    settings, task, store = env
    job = _submit(env, videos_dir, {})
    claim = store.mark_running(job.id, worker="w").claim

    class P:  # the pipeline's Progress shape
        def __init__(self, stage, done):
            self.stage, self.frames_done, self.frames_total, self.fps, self.eta_s = stage, done, 10, 5.0, 1.0

    with JobRun(store, job.id, claim, heartbeat_interval_s=0.05, cancel_check_interval_s=0.0) as run:
        run.on_progress(P("processing", 1))
        run.on_progress(P("processing", 2))  # within 0.5 s of the last: not written
        assert store.get(job.id).frames_done == 1
        run.on_progress(P("finalizing", 3))  # a new stage is always written
        assert store.get(job.id).stage == "finalizing"
        before = store.get(job.id).heartbeat_at
        time.sleep(0.2)
        assert store.get(job.id).heartbeat_at > before
        assert not run.should_cancel()
        store.request_cancel(job.id)
        assert run.should_cancel() and not run.claim_lost


def test_a_missing_model_fails_the_job_saying_so_without_the_servers_path(tmp_path):
    missing = tmp_path / "nowhere" / "graph_opt.pb"
    settings = Settings(instance_dir=tmp_path / "instance", uploads_dir=tmp_path / "uploads",
                        outputs_dir=tmp_path / "outputs", model_path=missing, secret_key="t")
    task = create_celery(settings).tasks[TASK_NAME]
    store = JobStore(settings.effective_database_url)
    try:
        job = store.create_job(source_name="x.mp4", options={}, owner=None, source_meta={})
        assert task(job.id) == "failed"
        error = store.get(job.id).error
        assert "could not load the pose model" in error and "fetch-model" in error
        assert str(tmp_path) not in error  # the job page shows this to whoever uploaded
    finally:
        store.close()


def test_exports_name_the_video_as_uploaded_made_safe_for_file_names(env, videos_dir):
    import json
    import zipfile

    settings, task, store = env
    job = store.create_job(source_name="..\\..\\my clip?.mp4", options={"net_height": 184, "end_s": 0.2},
                           owner=None, source_meta={})
    upload_path(settings, job.id).parent.mkdir(parents=True)
    shutil.copyfile(videos_dir / CLIP, upload_path(settings, job.id))
    assert task(job.id) == "succeeded", store.get(job.id).error
    out = output_dir(settings, job.id)
    with zipfile.ZipFile(out / "openpose_json.zip") as archive:
        names = archive.namelist()
    assert names and all(n.startswith("my clip__") and "\\" not in n and "/" not in n for n in names), names[:3]
    assert json.loads((out / "keypoints.json").read_text())["video"]["source"] == "my clip_.mp4"


def test_a_truncated_upload_succeeds_with_a_warning_the_job_records(env, videos_dir):
    """The frames before the cut are processed; the job says the file ended early."""
    settings, task, store = env
    job = store.create_job(source_name="cut.mp4", options={"net_height": 184, "frame_stride": 10},
                           owner=None, source_meta={})
    upload_path(settings, job.id).parent.mkdir(parents=True)
    data = (videos_dir / "openpose_examples_media_video.avi").read_bytes()  # MP4, moov first
    upload_path(settings, job.id).write_bytes(data[: len(data) // 2])
    assert task(job.id) == "succeeded"
    done = store.get(job.id)
    assert 5 <= done.timings["frames_processed"] < 21
    assert any("ends early (truncated)" in w for w in done.timings["warnings"]), done.timings


def test_a_job_deleted_while_it_finalizes_ends_quietly_and_leaves_no_files(env, videos_dir, monkeypatch, caplog):
    """The web deletes the job (record and files) just as the run writes its last files: the run
    ends without a traceback and whatever it moved into place afterwards is removed too."""
    from jobs import remove_job_files

    settings, task, store = env
    job = _submit(env, videos_dir, {"net_height": 184, "end_s": 0.3})
    real_on_progress = JobRun.on_progress

    def delete_when_finalizing(run, progress):
        if progress.stage == "finalizing" and not getattr(run, "_deleted", False):
            run._deleted = True
            store.delete(job.id)  # what the web's delete does
            remove_job_files(settings, job.id)
        return real_on_progress(run, progress)

    monkeypatch.setattr(JobRun, "on_progress", delete_when_finalizing)
    assert task(job.id) == "deleted"
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL") or r.exc_info]
    assert not output_dir(settings, job.id).exists()
    assert list(output_dir(settings, job.id).parent.glob(f".{job.id}*")) == []


def test_an_unwritable_outputs_folder_is_the_servers_fault_not_the_videos(tmp_path, model_path, videos_dir):
    """Before: 'internal error while processing the video (PermissionError)', which sends the
    uploader looking at their video. Now the job says the server's storage failed."""
    import os

    if os.geteuid() == 0:  # root writes into a 0500 folder anyway: make the folder a file instead
        outputs = tmp_path / "outputs"
        outputs.write_text("not a folder")
    else:
        outputs = tmp_path / "outputs"
        outputs.mkdir(mode=0o500)
    settings = Settings(instance_dir=tmp_path / "instance", uploads_dir=tmp_path / "uploads", outputs_dir=outputs,
                        model_path=model_path, secret_key="t")
    task = create_celery(settings).tasks[TASK_NAME]
    store = JobStore(settings.effective_database_url)
    try:
        job = store.create_job(source_name="clip.mp4", options={"net_height": 184, "end_s": 0.2}, owner=None,
                               source_meta={})
        upload_path(settings, job.id).parent.mkdir(parents=True)
        shutil.copyfile(videos_dir / CLIP, upload_path(settings, job.id))
        assert task(job.id) == "failed"
        error = store.get(job.id).error
        assert "could not write this job's results" in error and "not a problem with your video" in error
        assert str(tmp_path) not in error
    finally:
        store.close()


def _worker_with(env, **changes):
    """The task of a worker whose settings differ in ``changes`` (INFERENCE_BACKEND / _DEVICE)."""
    settings = env[0].with_overrides(**changes)
    return settings, create_celery(settings).tasks[TASK_NAME]


def test_a_worker_runs_the_backend_and_device_it_is_given(env, videos_dir):
    import json

    settings, task = _worker_with(env, inference_backend="onnxruntime", inference_device="cpu")
    job = _submit(env, videos_dir, {"net_height": 184, "end_s": 0.2, "keypoints_only": True})
    assert task(job.id) == "succeeded"
    model = json.loads((output_dir(settings, job.id) / "keypoints.json").read_text())["model"]
    assert (model["backend"], model["device"]) == ("onnxruntime", "cpu")


@pytest.mark.skipif(__import__("pathlib").Path("/dev/nvidia0").exists(), reason="this machine has an NVIDIA GPU")
def test_a_worker_told_to_use_a_gpu_that_is_not_there_fails_the_job_saying_why(env, videos_dir):
    from workers.housekeeping import device_description

    _settings, task = _worker_with(env, inference_device="gpu")
    job = _submit(env, videos_dir, {"end_s": 0.2})
    assert task(job.id) == "failed"
    assert env[2].get(job.id).error == (
        "the worker could not load the pose model: device gpu asked for, but the openvino backend has no GPU "
        "here: Pose Studio runs OpenVINO on the CPU only (use the onnxruntime backend for an NVIDIA GPU)")
    assert device_description("onnxruntime", "gpu:0").startswith("unusable: device gpu:0 asked for")
    assert device_description("onnxruntime", "auto").startswith("CPU: ") and "onnxruntime" in device_description(
        "onnxruntime", "cpu")

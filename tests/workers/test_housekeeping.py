"""What a run leaves behind (workers.housekeeping), with the real task, pipeline and model on a
real clip, run the way a worker runs it (``Task.apply``: Celery's tracer, so its signals fire):
a succeeded job's upload is deleted (unless KEEP_UPLOADS), keypoints-only writes the exports and
no video or screenshots, and every run that ends is counted for /metrics, as the web app's
/metrics then shows."""
from __future__ import annotations

import shutil

import pytest
from prometheus_client.parser import text_string_to_metric_families

import workers.housekeeping  # noqa: F401 - what the worker's `include` does: connect the signals
from app import create_app
from config import Settings
from jobs import JobState, JobStore, output_dir, upload_path
from workers.celery_app import create_celery
from pipeline.exports import EXPORT_FILE_NAMES
from workers.tasks import TASK_NAME

pytestmark = pytest.mark.model
CLIP = "mmaction2_test_video_structuralize.mp4"  # 29.97 fps
FAST = {"net_height": 184, "end_s": 0.3}  # 9 frames


@pytest.fixture(scope="module")
def env(tmp_path_factory, model_path):
    root = tmp_path_factory.mktemp("housekeeping")
    settings = Settings(instance_dir=root / "instance", uploads_dir=root / "uploads",
                        outputs_dir=root / "outputs", model_path=model_path, secret_key="t")
    store = JobStore(settings.effective_database_url)
    yield settings, store
    store.close()


def _run(settings: Settings, store: JobStore, videos_dir, options: dict, *, upload: bool = True):
    job = store.create_job(source_name=CLIP, options=options, owner=None, source_meta={})
    if upload:
        upload_path(settings, job.id).parent.mkdir(parents=True)
        shutil.copyfile(videos_dir / CLIP, upload_path(settings, job.id))
    outcome = create_celery(settings).tasks[TASK_NAME].apply(args=[job.id]).get()
    return outcome, store.get(job.id)


def _samples(text: str) -> dict[tuple, float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_runs_clean_up_after_themselves_and_are_counted(env, videos_dir):
    settings, store = env
    outcome, done = _run(settings, store, videos_dir, FAST)
    assert outcome == "succeeded" and done.state is JobState.SUCCEEDED
    assert not upload_path(settings, done.id).parent.exists()  # the upload went with the success
    assert (output_dir(settings, done.id) / "annotated.mp4").is_file()

    outcome, kept = _run(settings.with_overrides(keep_uploads=True), store, videos_dir, FAST)
    assert outcome == "succeeded" and upload_path(settings, kept.id).is_file()

    outcome, data = _run(settings, store, videos_dir, {**FAST, "keypoints_only": True})
    assert outcome == "succeeded"
    folder = output_dir(settings, data.id)
    assert sorted(p.name for p in folder.iterdir()) == sorted([*EXPORT_FILE_NAMES, "angles.csv", "people.json",
                                                               "reps.csv", "people"])
    assert set(data.outputs) == {"keypoints_json", "csv", "openpose_zip", "mot", "screenshots", "angles_csv",
                                 "people", "reps_csv"}
    assert data.outputs["screenshots"] == [] and data.timings["frames_processed"] == 9

    outcome, failed = _run(settings, store, videos_dir, FAST, upload=False)  # the file is gone
    assert outcome == "failed" and "file not found" in failed.error

    app = create_app({"SETTINGS": settings, "TESTING": True})
    app.extensions["posestudio.views"].broker.refresh()  # what the background refresh does
    app.extensions["posestudio.views"].storage.refresh()
    client = app.test_client()
    samples = _samples(client.get("/metrics").get_data(as_text=True))
    assert samples[("posestudio_jobs", (("state", "succeeded"),))] == 3
    assert samples[("posestudio_jobs", (("state", "failed"),))] == 1
    assert samples[("posestudio_jobs", (("state", "running"),))] == 0
    assert samples[("posestudio_frames_processed_total", ())] == 27
    assert samples[("posestudio_job_duration_seconds_count", (("state", "succeeded"),))] == 3
    assert samples[("posestudio_job_duration_seconds_count", (("state", "failed"),))] == 1
    assert samples[("posestudio_job_duration_seconds_count", (("state", "cancelled"),))] == 0
    runs = [j for j in (done, kept, data)]
    assert samples[("posestudio_job_duration_seconds_sum", (("state", "succeeded"),))] == pytest.approx(
        sum((j.finished_at - j.started_at).total_seconds() for j in runs))
    assert samples[("posestudio_job_duration_seconds_bucket", (("le", "+Inf"), ("state", "succeeded")))] == 3
    assert samples[("posestudio_broker_up", ())] == 1  # the embedded queue
    assert samples[("posestudio_queue_length", ())] == 0 and samples[("posestudio_workers_online", ())] == 0
    assert samples[("posestudio_storage_bytes", (("folder", "outputs"),))] > 0

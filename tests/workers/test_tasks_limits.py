"""The worker enforces the limits of its own settings on a queued job that no web check saw
(a script writing to the job store, or a web app configured with other limits)."""
from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from config import Settings
from jobs import JobState, JobStore, output_dir, upload_path
from workers.celery_app import create_celery
from workers.tasks import TASK_NAME

pytestmark = pytest.mark.model
CLIP = "mmaction2_test_video_structuralize.mp4"  # 426x240, 30 fps


def test_a_queued_job_over_the_worker_s_limits_fails_naming_the_limit(tmp_path, model_path, videos_dir):
    settings = Settings(instance_dir=tmp_path / "instance", uploads_dir=tmp_path / "uploads",
                        outputs_dir=tmp_path / "outputs", model_path=model_path, secret_key="t")
    settings = settings.with_overrides(limits=replace(settings.limits, max_frames=5))
    task = create_celery(settings).tasks[TASK_NAME]
    store = JobStore(settings.effective_database_url)
    try:
        jobs = {}
        for name, options in (("long", {"net_height": 184}), ("wide", {"net_height": 1024, "upsample": 16}),
                              ("fits", {"net_height": 184, "end_s": 0.15})):
            job = store.create_job(source_name=f"{name}.mp4", options=options, owner=None, source_meta={})
            upload_path(settings, job.id).parent.mkdir(parents=True)
            shutil.copyfile(videos_dir / CLIP, upload_path(settings, job.id))
            jobs[name] = job.id
            task(job.id)
        long, wide, fits = (store.get(jobs[n]) for n in ("long", "wide", "fits"))
        assert long.state is JobState.FAILED and long.error.startswith(
            "long.mp4: 300 frames to process exceeds the limit of 5 (MAX_FRAMES)")
        assert wide.state is JobState.FAILED and wide.error.startswith(
            "wide.mp4: net_height x net_width = 1024 x 1824 = 1,867,776 network input pixels exceeds the limit of "
            "1,048,576 (MAX_NETWORK_PIXELS")
        assert not output_dir(settings, long.id).exists() and not output_dir(settings, wide.id).exists()
        assert fits.state is JobState.SUCCEEDED and fits.timings["frames_processed"] == 5
    finally:
        store.close()

"""The service's pages in a real browser (Debian's chromium through Playwright) against the app on
a real WSGI server and a real Celery worker with the real model: a keypoints-only job, the job
page's delete, an expired job's page, the admin's workers (with their device and running job),
storage, retention, filter, search and bulk delete, and the API page. PNGs of each land in
test-artifacts/web/ for a person to look at."""
from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Iterator

import pytest

from app import create_app
from config import Settings
from jobs import JobStore
from jobs.retention import sweep
from web_helpers import CHROMIUM, CHROMIUM_ARGS, LiveServer, worker_process_module

pytestmark = [pytest.mark.browser, pytest.mark.model]
CLIP = "mmaction2_test_video_structuralize.mp4"  # 426x240, 29.97 fps, 10 s
LONG_CLIP = "vtest.avi"  # 768x576, 10 fps, 79.5 s: keeps the worker busy while the admin looks


@pytest.fixture(scope="module")
def stack(tmp_path_factory, videos_dir: Path, model_path: Path) -> Iterator[tuple[str, Settings]]:
    root = tmp_path_factory.mktemp("service-e2e")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL")}
    env.update(POSESTUDIO_INSTANCE_DIR=str(root / "instance"), POSESTUDIO_UPLOADS_DIR=str(root / "uploads"),
               POSESTUDIO_OUTPUTS_DIR=str(root / "outputs"), POSESTUDIO_MODEL_PATH=str(model_path),
               SECRET_KEY="service-e2e",
               # The worker batches frames and post-processes in a pool of processes: a real
               # Celery prefork process must be allowed them, and the admin shows the settings.
               INFERENCE_BATCH="2", POSTPROCESS_WORKERS="2")
    settings = Settings.from_env(env)
    worker = worker_process_module().WorkerProcess(env, name="service-e2e", concurrency=1,
                                                   log_path=root / "worker.log")
    worker.start()
    try:
        with LiveServer(create_app({"SETTINGS": settings})) as server:
            yield server.url, settings
    finally:
        worker.stop()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed: run `make test-setup` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _shot(page, name: str, artifacts: Path) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def _wait_for(page, url: str, selector: str, timeout_s: float = 120) -> None:
    """Reload ``url`` until ``selector`` is on it (the job page reloads itself when done, too)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if page.locator(selector).count():
            return
        page.wait_for_timeout(500)
        if page.locator("#progress-panel").count() == 0:
            page.goto(url)
    raise AssertionError(f"{selector} did not appear on {url}: {page.inner_text('main')[:500]}")


def test_keypoints_only_delete_expiry_and_the_admin(stack, browser, videos_dir: Path, artifacts_dir: Path) -> None:
    base, settings = stack
    store = JobStore(settings.effective_database_url)
    artifacts = artifacts_dir / "web"
    artifacts.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text else None)

    # A keypoints-only job from the upload page: exports, no video, no screenshots.
    page.goto(base + "/")
    page.set_input_files("#video-input", str(videos_dir / CLIP))
    page.select_option("#net_height", "256")
    page.check("#keypoints_only")
    page.click("summary")
    page.fill("#end_s", "1")
    _shot(page, "20-upload-keypoints-only", artifacts)
    page.click("#upload-button")
    page.wait_for_url(base + "/jobs/*", timeout=20_000)
    job_url = page.url
    _wait_for(page, job_url, "#downloads-title")
    assert page.locator("#result-video").count() == 0 and page.locator("#gallery").count() == 0
    assert "keypoints only" in page.inner_text("#keypoints-only")
    downloads = page.inner_text("section[aria-labelledby='downloads-title'] .downloads")
    assert "Keypoints (CSV)" in downloads and "Video (MP4)" not in downloads
    assert "no video or screenshots were made" in page.inner_text("main")
    assert "kept until" in page.inner_text("#job-expires")
    _shot(page, "21-job-keypoints-only", artifacts)
    job_id = job_url.rsplit("/", 1)[1]
    assert not (Path(settings.uploads_dir) / job_id).exists()  # the upload went with the success

    # The admin while the worker runs a long job: the worker, its device and its job.
    context.request.post(base + "/api/jobs", multipart={
        "video": {"name": LONG_CLIP, "mimeType": "video/x-msvideo",
                  "buffer": (videos_dir / LONG_CLIP).read_bytes()},
        "net_height": "256", "screenshot_interval_s": "0"}, headers={"X-CSRF-Token": page.evaluate(
            "document.querySelector('meta[name=csrf-token]').content")})
    deadline = time.monotonic() + 60
    page.goto(base + "/admin/")
    while time.monotonic() < deadline and LONG_CLIP not in (page.inner_text("#workers") if page.locator("#workers").count() else ""):
        page.wait_for_timeout(1000)
        page.goto(base + "/admin/")
    workers = page.inner_text("#workers")
    assert LONG_CLIP in workers and "CPU:" in workers and "openvino" in workers, workers
    assert "batch 2" in workers and "post-processing 2" in workers, workers
    assert int(page.inner_text("#worker-count")) == 1
    assert "30 days" in page.inner_text("#retention")
    assert page.inner_text("#outputs-size") not in ("–", "0 B")
    _shot(page, "22-admin-running", artifacts)
    with page.expect_navigation():
        page.click(f'button[aria-label="Cancel {LONG_CLIP}"]')
    assert "Cancel requested" in page.inner_text("main")

    # Filter, search, and delete finished jobs in bulk.
    for i in range(4):
        failed = store.create_job(source_name=f"broken-{i}.mov", options={}, owner=None, source_meta={})
        store.mark_failed(failed.id, error="the decoder gave up at frame 12")
    page.select_option("#filter-state", "failed")
    page.fill("#filter-q", "broken")
    with page.expect_navigation():
        page.click("#filter-button")
    assert "Jobs (4 matching)" in page.inner_text("#jobs-title")
    assert page.locator("#bulk-delete").is_disabled()
    page.check("#select-finished")
    assert page.inner_text("#bulk-delete") == "Delete 4 selected"
    page.uncheck('input[aria-label="Select broken-3.mov"]')
    assert page.inner_text("#bulk-delete") == "Delete 3 selected"
    _shot(page, "23-admin-filtered-selected", artifacts)
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("#bulk-delete")
    assert "3 finished jobs deleted with their files." in page.inner_text("main")
    assert "state=failed" in page.url and "broken-3.mov" in page.inner_text(".admin-table")
    _shot(page, "24-admin-bulk-deleted", artifacts)

    # The owner deletes the finished job from its page: asked first, then gone.
    page.goto(job_url)
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#delete-button")
    page.wait_for_timeout(300)
    assert page.url == job_url and store.get(job_id)
    _shot(page, "25-job-delete-control", artifacts)
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("#delete-button")
    assert page.url == base + "/jobs" and "were deleted" in page.inner_text("main")
    _shot(page, "26-my-jobs-after-delete", artifacts)
    assert page.goto(job_url).status == 404

    # An expired job's page says so.
    old = store.create_job(source_name="last-year.mp4", options={}, owner=None, source_meta={})
    store.mark_failed(old.id, error="x")
    assert old.id in sweep(store, settings, now=store.get(old.id).finished_at + timedelta(days=31)).expired
    response = page.goto(f"{base}/jobs/{old.id}")
    assert response.status == 410 and "This job has expired" in page.inner_text("main")
    _shot(page, "27-job-expired", artifacts)

    page.goto(base + "/api/docs")
    assert "DELETE" in page.inner_text("main") and page.locator("#schema-Job").count() == 1
    _shot(page, "28-api-docs", artifacts)
    context.close()
    store.close()
    assert errors == [], errors

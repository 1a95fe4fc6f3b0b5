"""End to end in a real browser: Debian's chromium (Playwright) against the app on a real WSGI
server and a real Celery worker on the embedded broker, with the real model on a real video.

Upload through the page, watch the progress move, play the annotated video, open a screenshot
in the full-size view and step through with the keyboard, download the ZIP and check it, and
save a PNG of every page into test-artifacts/web/ for a person to look at.
"""
from __future__ import annotations

import os
import re
import time
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

from app import create_app
from config import Settings
from jobs import JobStore
from web_helpers import LiveServer, chromium, worker_process_module

pytestmark = [pytest.mark.browser, pytest.mark.model]
CLIP = "mmaction2_test_video_structuralize.mp4"  # 426x240, 29.97 fps; we process its first 3 s
LIMIT_BYTES = 3 * 1024**2


@pytest.fixture(scope="module")
def stack(tmp_path_factory, videos_dir: Path, model_path: Path) -> Iterator[tuple[str, Settings]]:
    """The web app on an ephemeral loopback port plus one real Celery worker process."""
    root = tmp_path_factory.mktemp("web-e2e")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL")}
    env.update(POSESTUDIO_INSTANCE_DIR=str(root / "instance"), POSESTUDIO_UPLOADS_DIR=str(root / "uploads"),
               POSESTUDIO_OUTPUTS_DIR=str(root / "outputs"), POSESTUDIO_MODEL_PATH=str(model_path),
               SECRET_KEY="web-e2e", MAX_UPLOAD_MB=str(LIMIT_BYTES // 1024**2))
    settings = Settings.from_env(env)
    worker = worker_process_module().WorkerProcess(env, name="web-e2e", concurrency=1,
                                                   log_path=root / "worker.log")
    worker.start()
    try:
        with LiveServer(create_app({"SETTINGS": settings})) as server:
            yield server.url, settings
    finally:
        worker.stop()


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def _shot(page, artifacts: Path, name: str, *, full_page: bool = True) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=full_page)


def test_upload_watch_play_browse_download(stack, browser, videos_dir: Path, artifacts_dir: Path,
                                           tmp_path: Path) -> None:
    base, settings = stack
    artifacts = artifacts_dir / "web"
    artifacts.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Anything the Content-Security-Policy blocks (an inline style or handler) is a console error.
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text else None)

    # Upload page: pick the file and options, see it listed with the limit.
    page.goto(base + "/")
    assert "Up to 3 MB per file" in page.inner_text("#limit-hint")
    page.set_input_files("#video-input", str(videos_dir / CLIP))
    page.select_option("#net_height", "256")
    page.fill("#screenshot_interval_s", "0.5")
    page.click("summary")
    page.fill("#end_s", "3")
    assert CLIP in page.inner_text("#file-list")
    _shot(page, artifacts, "01-upload")

    # Submit: the XHR upload finishes and the page moves to the job.
    page.click("#upload-button")
    page.wait_for_url(base + "/jobs/*", timeout=20_000)
    job_id = page.url.rsplit("/", 1)[1]

    # The progress moves while the worker runs (polling the JSON API), then the page reloads.
    seen: list[int] = []
    running_shot = False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and page.locator("#result-video").count() == 0:
        bar = page.locator("#job-progress")
        if bar.count():
            try:
                value = int(bar.get_attribute("aria-valuenow", timeout=500) or 0)
            except Exception:  # the page reloaded between the two calls
                continue
            if not seen or value != seen[-1]:
                seen.append(value)
            if 0 < value < 100 and not running_shot:
                _shot(page, artifacts, "02-job-running")
                running_shot = True
        page.wait_for_timeout(150)
    assert page.locator("#result-video").count() == 1, f"job did not finish; progress seen {seen}"
    assert re.search(r"\d+ (person|people) tracked over \d+ frames · processed in", page.inner_text("#job-summary"))
    assert len([v for v in seen if 0 < v < 100]) >= 2, f"progress did not visibly move: {seen}"
    assert seen == sorted(seen)

    # The annotated video plays in the page.
    assert page.evaluate("document.createElement('video').canPlayType('video/mp4; codecs=\"avc1.640028\"')") == "probably"
    page.wait_for_function("() => document.querySelector('#result-video').readyState >= 1", timeout=15_000)
    meta = page.evaluate("""() => { const v = document.querySelector('#result-video');
        return {duration: v.duration, width: v.videoWidth, height: v.videoHeight, poster: v.poster}; }""")
    assert 2.5 < meta["duration"] < 3.5 and (meta["width"], meta["height"]) == (426, 240), meta
    assert meta["poster"].endswith("/screenshots/poster.jpg")
    page.evaluate("() => { const v = document.querySelector('#result-video'); v.muted = true; return v.play(); }")
    page.wait_for_function("() => document.querySelector('#result-video').currentTime > 0.3", timeout=15_000)
    page.evaluate("document.querySelector('#result-video').pause()")
    _shot(page, artifacts, "03-job-done")

    # The gallery: open a screenshot full-size, step with the arrow keys, close with Escape.
    thumbs = page.locator("#gallery .thumb")
    count = thumbs.count()
    assert count >= 5  # one every 0.5 s over 3 s
    thumbs.nth(0).click()
    dialog = page.locator("#lightbox")
    assert dialog.evaluate("d => d.open")
    page.wait_for_function("() => document.querySelector('#lightbox-image').naturalWidth === 426")
    assert page.inner_text("#lightbox-caption") == f"Screenshot 1 of {count} · 0:00"
    assert page.inner_text("#gallery li:nth-child(2) .thumb-time") == "0:00.5"
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#lightbox-caption").startswith(f"Screenshot 2 of {count}")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert page.inner_text("#lightbox-caption").startswith(f"Screenshot {count} of {count}")
    page.wait_for_function("() => document.querySelector('#lightbox-image').complete")
    _shot(page, artifacts, "04-gallery-open", full_page=False)  # the modal covers the viewport
    page.keyboard.press("Escape")
    assert not dialog.evaluate("d => d.open")

    # Everything as one ZIP, downloaded by the browser.
    with page.expect_download() as download_info:
        page.click("#download-zip")
    zip_path = tmp_path / "all.zip"
    download_info.value.save_as(zip_path)
    with zipfile.ZipFile(zip_path) as archive:
        names = set(archive.namelist())
        assert archive.testzip() is None
    assert {"annotated.mp4", "keypoints.json", "keypoints.csv", "openpose_json.zip", "tracks_mot.txt",
            "screenshots/poster.jpg"} <= names
    assert len([n for n in names if n.startswith("screenshots/t")]) == count

    # My jobs lists it with its thumbnail; admin sees it and the worker.
    page.goto(base + "/jobs")
    item = page.locator(f'a[href="/jobs/{job_id}"]')
    assert item.count() == 1 and "Done" in item.inner_text()
    assert item.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
    _shot(page, artifacts, "05-my-jobs")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    small = phone.new_page()
    small.goto(f"{base}/jobs/{job_id}")
    assert small.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scroll
    _shot(small, artifacts, "11-job-done-phone")
    phone.close()
    # The worker answers the admin's broadcast within its 1 s (a fifth of a second's polling on
    # the embedded queue); a loaded machine may miss one window, so the page is asked a few times.
    for _ in range(15):  # the page's view of the broker is refreshed every few seconds
        page.goto(base + "/admin/")
        if int(page.inner_text("#worker-count")) >= 1:
            break
        page.wait_for_timeout(2000)
    assert CLIP in page.inner_text(".admin-table") and int(page.inner_text("#worker-count")) >= 1
    _shot(page, artifacts, "06-admin")

    # Friendly 404 page, and a file over the limit: refused in the page before sending ...
    response = page.goto(base + "/jobs/no-such-job")
    assert response.status == 404 and "There is no job" in page.inner_text("main")
    _shot(page, artifacts, "08-404")
    store = JobStore(settings.effective_database_url)
    failed = store.create_job(source_name="broken.mov", options={}, owner=None, source_meta={})
    store.mark_failed(failed.id, error="the video stopped decoding at frame 120 (corrupt data); "
                                       "export it again and upload the new file")
    page.goto(f"{base}/jobs/{failed.id}")
    assert "stopped decoding at frame 120" in page.inner_text("[role=alert]")
    _shot(page, artifacts, "10-job-failed")
    # Admin's Delete asks first (static/admin.js): dismissing keeps the job, accepting deletes it.
    page.goto(base + "/admin/")
    delete = page.locator('button[aria-label="Delete broken.mov"]')
    page.once("dialog", lambda dialog: dialog.dismiss())
    delete.click()
    page.wait_for_timeout(300)
    assert store.get(failed.id).state.value == "failed"
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        delete.click()
    assert "broken.mov" not in page.inner_text(".admin-table")
    big = tmp_path / "too-big.mp4"
    big.write_bytes(os.urandom(LIMIT_BYTES + 512 * 1024))
    page.goto(base + "/")
    page.set_input_files("#video-input", str(big))
    assert "Too large" in page.inner_text("#file-list")
    _shot(page, artifacts, "07-upload-too-large")
    context.close()

    # ... and by the server with its friendly 413 page when a plain form (no JavaScript) sends it.
    plain = browser.new_context(java_script_enabled=False)
    page2 = plain.new_page()
    page2.goto(base + "/")
    page2.set_input_files("#video-input", str(big))
    with page2.expect_navigation():
        page2.click("#upload-button")
    assert "too large" in page2.inner_text("main")
    _shot(page2, artifacts, "09-413")
    plain.close()
    assert errors == [], errors

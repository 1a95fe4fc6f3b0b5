"""The /live page in a real browser (Debian's chromium through Playwright) with a fake camera that
plays a real clip (fake_camera.py), against the real live server and a real Celery worker with the
real model: skeletons drawn over the video with data-people >= 1 within 30 s; a second tab while
the only session is taken is told so; Record makes an ordinary job of the WebM that chromium's
MediaRecorder writes (no duration, no frame count in it), and the job succeeds; a camera that is
refused and a live server that is down are both said on the page. PNGs go to test-artifacts/web/."""
from __future__ import annotations

import json
import os
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from app import create_app
from config import LiveSettings, Settings
from jobs import JobStore
from fake_camera import fake_camera_args, write_y4m
from web_helpers import LiveServer, chromium, live_process_module, worker_process_module

pytestmark = [pytest.mark.browser, pytest.mark.model]
CLIP = "sports2d_demo.mp4"  # one person jumps off a box, another walks past
VIEWPORT = {"width": 1100, "height": 900}


@pytest.fixture(scope="module")
def stack(tmp_path_factory, model_path: Path) -> Iterator[tuple[str, Settings, object]]:
    """The web app, a worker and a live server with one session slot, all real."""
    root = tmp_path_factory.mktemp("live-e2e")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL")}
    env.update(POSESTUDIO_INSTANCE_DIR=str(root / "instance"), POSESTUDIO_UPLOADS_DIR=str(root / "uploads"),
               POSESTUDIO_OUTPUTS_DIR=str(root / "outputs"), POSESTUDIO_MODEL_PATH=str(model_path),
               SECRET_KEY="live-e2e")
    live = live_process_module().LiveProcess(root / "live.log", model_path, LIVE_SESSIONS="1",
                                             LIVE_IDLE_TIMEOUT_S="3").start()
    env["LIVE_URL"] = live.url
    worker = worker_process_module().WorkerProcess(env, name="live-e2e", concurrency=1, log_path=root / "worker.log")
    try:
        worker.start()
        settings = Settings.from_env({**env, "LIVE_SESSIONS": "1", "LIVE_IDLE_TIMEOUT_S": "3"})
        with LiveServer(create_app({"SETTINGS": settings})) as server:
            yield server.url, settings, live
    finally:
        worker.stop()
        live.stop()


@pytest.fixture(scope="module")
def camera_browser(tmp_path_factory, videos_dir: Path) -> Iterator:
    y4m = write_y4m(videos_dir / CLIP, tmp_path_factory.mktemp("camera") / "camera.y4m", width=640, seconds=4)
    with chromium(*fake_camera_args(y4m)) as browser:
        yield browser


def watch(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text else None)
    return errors


def drawn_pixels(page) -> int:
    return page.evaluate("""() => { const c = document.getElementById('live-canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }""")


def wait_for_no_sessions(live, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while live.status()["sessions"]["open"]:
        assert time.monotonic() < deadline, live.status()
        time.sleep(0.1)


def job_state(base: str, job_id: str) -> dict:
    with urllib.request.urlopen(f"{base}/api/jobs/{job_id}", timeout=10) as response:
        return json.load(response)


def test_live_skeletons_then_a_recording_becomes_a_job(stack, camera_browser, artifacts_dir: Path) -> None:
    base, settings, live = stack
    artifacts = artifacts_dir / "web"
    artifacts.mkdir(exist_ok=True)
    context = camera_browser.new_context(viewport=VIEWPORT, permissions=["camera"])
    try:
        live_then_record(context, base, settings, live, artifacts)
    finally:
        context.close()  # a failure here leaves no page sending frames into the next test


def live_then_record(context, base: str, settings: Settings, live, artifacts: Path) -> None:
    page = context.new_page()
    errors = watch(page)
    page.goto(base + "/live")
    page.wait_for_selector("#model:not([disabled]) option[value=openpose]", state="attached", timeout=15_000)
    page.click("#start")
    started = time.monotonic()
    page.wait_for_function("() => Number(document.getElementById('live-status').dataset.people) >= 1",
                           timeout=30_000)
    print(f"first person drawn {time.monotonic() - started:.1f} s after Start")
    page.wait_for_function("() => Number(document.getElementById('live-status').dataset.fps) > 0", timeout=15_000)
    deadline = time.monotonic() + 10  # the canvas is redrawn every animation frame: look a few times
    while drawn_pixels(page) <= 500:
        assert time.monotonic() < deadline, "no skeleton drawn on the canvas"
        page.wait_for_timeout(100)
    assert page.is_hidden("#live-message")
    status = page.locator("#live-status")
    assert int(status.get_attribute("data-latency-ms")) > 0
    shown, count = page.evaluate("() => [document.getElementById('live-status').innerText, "
                                 "document.getElementById('live-status').dataset.people]")  # one moment
    assert f"{count} {'person' if count == '1' else 'people'}" in shown
    assert "frames/s" in shown and "ms round trip" in shown
    page.screenshot(path=str(artifacts / "30-live.png"), full_page=True)

    # The only session is taken: a second tab is told so, on the page.
    other = context.new_page()
    other_errors = watch(other)
    other.goto(base + "/live")
    other.wait_for_selector("#model:not([disabled])", timeout=15_000)
    other.click("#start")
    other.wait_for_selector("#live-message:not([hidden])", timeout=15_000)
    assert "All 1 live session is in use" in other.inner_text("#live-message")
    other.screenshot(path=str(artifacts / "31-live-full.png"), full_page=True)
    other.close()

    # Record three seconds: the WebM goes through the ordinary upload and becomes a job that succeeds.
    page.click("#record")
    assert page.get_attribute("#record", "aria-pressed") == "true"
    page.wait_for_timeout(3000)
    page.click("#record")
    page.wait_for_selector("#record-job", timeout=30_000)
    job_id = page.get_attribute("#record-job", "href").rsplit("/", 1)[1]
    page.screenshot(path=str(artifacts / "32-live-recorded.png"), full_page=True)
    deadline = time.monotonic() + 240
    while (job := job_state(base, job_id))["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(1)
    assert job["state"] == "succeeded", job
    assert job["source_name"].startswith("live-") and job["source_name"].endswith(".webm")
    assert job["summary"]["frames"] >= 30 and job["summary"]["people"] >= 1, job["summary"]
    assert "annotated.mp4" in job["outputs"]["video"]
    # MediaRecorder's WebM states no duration and no frame count (and, from a loaded machine, no
    # frame rate): the probe measured them from the timestamps instead of assuming 25 fps.
    meta = JobStore(settings.effective_database_url).get(job_id).source_meta
    assert meta["container"] == "matroska,webm" and not meta["fps_guessed"], meta
    assert meta["frame_count"] == job["summary"]["frames"] and 2.0 < meta["duration_s"] < 6.0, meta
    job_page = context.new_page()
    job_page.goto(base + job["url"])
    job_page.wait_for_function("() => document.querySelector('#result-video').readyState >= 1", timeout=15_000)
    job_page.screenshot(path=str(artifacts / "35-live-recording-job.png"), full_page=True)
    job_page.close()

    # Stop ends the session at once: its slot is free for the next tab.
    page.click("#stop")
    wait_for_no_sessions(live)
    assert page.get_attribute("#live-status", "data-state") == "stopped"

    # Start again, then the camera goes away (unplugged, or taken by another application):
    # the page says so and ends its session. chromium's fake camera cannot be unplugged, so the
    # test fires the track's "ended" event, which is what the browser fires then.
    page.click("#start")
    page.wait_for_function("() => document.getElementById('live-status').dataset.state === 'running' && "
                           "Number(document.getElementById('live-status').dataset.fps) > 0", timeout=30_000)
    page.evaluate("() => document.getElementById('live-video').srcObject.getVideoTracks()[0]"
                  ".dispatchEvent(new Event('ended'))")
    page.wait_for_selector("#live-message:not([hidden])", timeout=5_000)
    assert "The camera stopped" in page.inner_text("#live-message")
    assert page.get_attribute("#live-status", "data-state") == "camera-error" and page.is_enabled("#start")
    wait_for_no_sessions(live)
    assert errors == [] and other_errors == []


def test_a_refused_camera_is_said_on_the_page(stack, camera_browser, artifacts_dir: Path) -> None:
    base, _settings, live = stack
    context = camera_browser.new_context(viewport=VIEWPORT)  # no camera permission: chromium refuses
    page = context.new_page()
    errors = watch(page)
    page.goto(base + "/live")
    page.click("#start")
    page.wait_for_selector("#live-message:not([hidden])", timeout=15_000)
    assert "Camera access was denied" in page.inner_text("#live-message")
    assert page.get_attribute("#live-status", "data-state") == "camera-error"
    assert page.is_enabled("#start") and live.status()["sessions"]["open"] == 0
    page.screenshot(path=str(artifacts_dir / "web" / "33-live-camera-denied.png"), full_page=True)
    assert errors == []
    context.close()


def test_a_live_server_that_is_down_is_said_on_the_page(stack, camera_browser, artifacts_dir: Path, tmp_path: Path) -> None:
    _base, settings, _live = stack
    down = settings.with_overrides(live=LiveSettings(url="http://127.0.0.1:9", sessions=1))
    with LiveServer(create_app({"SETTINGS": down})) as server:
        context = camera_browser.new_context(viewport=VIEWPORT, permissions=["camera"])
        page = context.new_page()
        errors = watch(page)
        page.goto(server.url + "/live")
        page.wait_for_selector("#live-message:not([hidden])", timeout=15_000)
        assert "live pose server is not running or not reachable" in page.inner_text("#live-message")
        page.click("#start")  # the camera starts; the session cannot: the page keeps saying why
        page.wait_for_function("() => document.getElementById('live-status').dataset.state === 'unavailable'",
                               timeout=15_000)
        assert "not running or not reachable" in page.inner_text("#live-message")
        page.screenshot(path=str(artifacts_dir / "web" / "34-live-server-down.png"), full_page=True)
        assert errors == []
        context.close()

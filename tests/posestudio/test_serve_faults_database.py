"""``posestudio serve`` with its job database away (PostgreSQL behind a TCP proxy that the test
stops and starts; the real server stays up for everyone else): at start, then in the middle of
a job. Real serve, real worker, embedded queue, real model, a real browser on the job page.

What must hold: serve says so in one line (no traceback) and starts all the same; pages and the
API answer 503 "the job database is unreachable" (never a bare 500); an upload refused meanwhile
leaves nothing behind; once the database answers the site serves again without a restart; a job
that was running when it went away finishes in its first attempt, and its open page says what
happened while it waits. PNGs of the job page land in test-artifacts/faults/."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from config import Settings
from jobs import JobState, JobStore, output_dir

from pg_schemas import own_schema, schema_url
from serve_process import ServeProcess, post_multipart
from tcp_proxy import TcpProxy
from web_helpers_by_path import web_helpers

pytestmark = [pytest.mark.model, pytest.mark.postgres, pytest.mark.browser]

CLIP = "mmaction2_test_video_structuralize.mp4"  # 426x240, 29.97 fps


def _wait(what, until, timeout_s: float = 120.0):
    deadline = time.monotonic() + timeout_s
    while not (value := until()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return value


def test_the_job_database_away_at_start_and_in_the_middle_of_a_job(tmp_path, videos_dir, model_path,
                                                                  artifacts_dir):
    shots = artifacts_dir / "faults"
    shots.mkdir(exist_ok=True)
    with own_schema("faults_serve") as schema:
        proxy = TcpProxy(5432)
        proxy.stop()  # the database is away from the start
        serve = ServeProcess(tmp_path, POSESTUDIO_MODEL_PATH=str(model_path), JOB_STALE_AFTER_S="5",
                             DATABASE_URL=schema_url(schema, port=proxy.port))
        direct = JobStore(schema_url(schema))  # the test's own view, never through the proxy
        try:
            log = serve.wait_for_log(lambda t: f"running at http://127.0.0.1:{serve.port}" in t)
            said = [line for line in log.splitlines() if "job database does not answer" in line]
            assert len(said) == 1 and said[0].startswith("posestudio serve:"), log[-3000:]
            assert "Traceback" not in log, log[-3000:]

            status, body = serve.get("/jobs", timeout_s=60)  # the first request warms the app up
            assert status == 503 and b"The job database is not reachable" in body
            assert b"Traceback" not in body
            status, body = serve.get("/api/jobs/" + "a" * 32)
            assert status == 503 and "job database is unreachable" in json.loads(body)["error"]
            clip = videos_dir / CLIP
            status, body = post_multipart(serve.port, "/api/jobs", clip.read_bytes(), CLIP, {"net_height": "128"})
            assert status == 503 and "job database is unreachable" in json.loads(body)["error"]
            uploads = Path(serve.env["POSESTUDIO_UPLOADS_DIR"])
            assert [p for p in uploads.rglob("*") if p.is_file()] == []  # nothing kept of it

            proxy.start()  # the database is back: no restart by hand
            assert _wait("my jobs", lambda: serve.get("/jobs")[0] == 200, timeout_s=30)
            job_id = serve.upload(clip, net_height="128", end_s="6")["id"]  # 180 frames
            _wait("the job to run", lambda: (j := direct.get(job_id)).state is JobState.RUNNING
                  and j.frames_done > 0, timeout_s=180)

            with web_helpers().chromium() as browser:
                page = browser.new_page(viewport={"width": 1000, "height": 800})
                url = f"http://127.0.0.1:{serve.port}/jobs/{job_id}"
                page.goto(url)
                with proxy.down(4.0):
                    notice = page.locator("#job-unreachable")
                    notice.wait_for(state="visible", timeout=10_000)
                    assert "job database is unreachable" in notice.inner_text()
                    page.screenshot(path=str(shots / "database-away-job-page-open.png"), full_page=True)
                    fresh = browser.new_page(viewport={"width": 1000, "height": 600})
                    response = fresh.goto(url)
                    assert response.status == 503 and "The job database is not reachable" in fresh.content()
                    fresh.screenshot(path=str(shots / "database-away-job-page-loaded.png"), full_page=True)
                notice.wait_for(state="hidden", timeout=15_000)  # back: the page says so by itself
                page.locator(".badge-succeeded").wait_for(timeout=180_000)  # reloads when done
                page.screenshot(path=str(shots / "database-back-job-done.png"), full_page=True)

            done = direct.get(job_id)
            assert done.state is JobState.SUCCEEDED and done.attempts == 1, done
            assert done.frames_done == 180
            settings = Settings.from_env(serve.env)
            assert (output_dir(settings, job_id) / "annotated.mp4").is_file()
            assert [p.name for p in Path(settings.outputs_dir).glob(f".{job_id}*")] == []
            assert "Traceback" not in serve.log(), serve.log()[-3000:]
        finally:
            proxy.start()
            serve.stop()
            direct.close()
            proxy.stop()

"""The outputs disk fills up while a job is rendered (a real tmpfs; the ``process_job`` task body
in this process, with the real pipeline and model on a real clip).

What must hold: the job fails with a message that says the server's storage is full and that
the video is not at fault, on its page and in the API (a PNG of the page lands in
test-artifacts/faults/); no output folder, whole or partial, is left; and once there is room
the same job, retried, succeeds with no restart. Before, pass 1's full disk was "internal error
(OSError)" (a failed ``write()`` names no file) and a screenshot's was the video's problem."""
from __future__ import annotations

import errno
import shutil
import threading

import numpy as np
import pytest
from werkzeug.serving import make_server

from app import create_app
from config import Settings
from jobs import output_dir, upload_path
from videoio import VideoWriteError, write_jpeg
from workers.celery_app import create_celery
from workers.tasks import TASK_NAME, storage_failure

from tmpfs import fill, free, small_disk
from web_helpers_by_path import web_helpers

pytestmark = pytest.mark.model
CLIP = "mmaction2_test_video_structuralize.mp4"  # 426x240, 29.97 fps


def test_a_screenshot_that_does_not_fit_is_the_servers_storage(tmp_path):
    with small_disk(tmp_path / "outputs", "64k") as disk:
        fill(disk)
        with pytest.raises(VideoWriteError) as caught:
            write_jpeg(disk / "poster.jpg", np.zeros((240, 426, 3), np.uint8))
        assert caught.value.errno == errno.ENOSPC
        assert storage_failure(caught.value, disk) == "cannot write poster.jpg: No space left on device"
        assert storage_failure(OSError(errno.ENOSPC, "No space left on device"), disk) == "No space left on device"
        assert storage_failure(VideoWriteError("encoding annotated.mp4 failed: invalid argument"), disk) is None


def test_the_outputs_disk_full_mid_render_fails_the_job_saying_so_and_a_retry_succeeds(
        tmp_path, videos_dir, model_path, artifacts_dir):
    with small_disk(tmp_path / "outputs", "8m") as disk:
        settings = Settings(instance_dir=tmp_path / "instance", uploads_dir=tmp_path / "uploads",
                            outputs_dir=disk, model_path=model_path, secret_key="t")
        app = create_app({"SETTINGS": settings, "TESTING": True})
        store = app.extensions["posestudio"].store
        task = create_celery(settings).tasks[TASK_NAME]
        job = store.create_job(source_name=CLIP, options={"net_height": 128, "end_s": 3}, owner=None,
                               source_meta={})
        upload_path(settings, job.id).parent.mkdir(parents=True)
        shutil.copyfile(videos_dir / CLIP, upload_path(settings, job.id))

        fill(disk, leave_bytes=800 * 1024)  # pass 1's pose log fits; the annotated video does not
        assert task(job.id) == "failed"
        failed = store.get(job.id)
        assert failed.stage == "rendering", failed  # it got through pass 1
        assert failed.error.startswith("the server could not write this job's results (")
        assert "No space left on device" in failed.error and "not a problem with your video" in failed.error
        assert list(disk.iterdir()) == [disk / ".filler"]  # no output folder, whole or partial
        client = app.test_client()
        assert client.get(f"/api/jobs/{job.id}").get_json()["error"] == failed.error
        _screenshot(app, f"/jobs/{job.id}", artifacts_dir / "faults" / "disk-full-job-page.png")
        assert "No space left on device" in client.get(f"/jobs/{job.id}").get_data(as_text=True)

        free(disk)  # room again: the same job, retried, goes through
        store.requeue(job.id)
        assert task(job.id) == "succeeded"
        assert (output_dir(settings, job.id) / "annotated.mp4").is_file()
        assert [p.name for p in disk.iterdir()] == [job.id]


def _screenshot(app, path: str, png) -> None:
    """The page in Debian's chromium, served by a real WSGI server on an ephemeral port."""
    png.parent.mkdir(parents=True, exist_ok=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with web_helpers().chromium() as browser:
            page = browser.new_page(viewport={"width": 1000, "height": 700})
            page.goto(f"http://127.0.0.1:{server.server_port}{path}")
            page.screenshot(path=str(png), full_page=True)
    finally:
        server.shutdown()

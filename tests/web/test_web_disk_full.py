"""A full disk under the web app: an upload being received, and a ZIP being built. Each gets a
503 that says the server's storage is full (not a 500, not a problem of the user's file),
leaves nothing half-written, and works again once there is room, with no restart.
Real tmpfs mounts (root, as here and in CI), real uploads through the app."""
from __future__ import annotations

from pathlib import Path

from markupsafe import escape

from app import create_app
from jobs import output_dir
from web.errors import STORAGE_FULL
from web_helpers import make_settings

from tmpfs import fill, free, small_disk

CLIP = "mmaction2_test_video_structuralize.mp4"  # 580 KB: more than the 512 KiB disk


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_an_upload_to_a_full_disk_is_a_503_that_says_so_and_keeps_nothing(tmp_path, videos_dir):
    with small_disk(tmp_path / "uploads", "512k") as disk:
        app = create_app({"SETTINGS": make_settings(tmp_path), "TESTING": True})
        store = app.extensions["posestudio"].store

        def upload():
            with open(videos_dir / CLIP, "rb") as video:  # as a script sends it: no cookie
                return app.test_client().post("/api/jobs", data={"video": (video, CLIP), "end_s": "1"})

        response = upload()
        assert response.status_code == 503 and response.get_json()["error"] == STORAGE_FULL
        assert response.headers["Retry-After"]
        assert _files(disk) == [] and store.list_jobs() == []  # nothing half-received, no job

    with small_disk(tmp_path / "uploads", "4m") as disk:  # room again: no restart
        fill(disk, leave_bytes=3 * 1024 * 1024)
        assert upload().status_code == 202
        free(disk)


def test_a_zip_built_on_a_full_disk_is_a_503_that_says_so_and_keeps_nothing(tmp_path, sample_video):
    with small_disk(tmp_path / "outputs", "8m") as disk:
        settings = make_settings(tmp_path)
        app = create_app({"SETTINGS": settings, "TESTING": True})
        store = app.extensions["posestudio"].store
        job = store.create_job(source_name="street.mp4", options={}, owner=None, source_meta={})
        claim = store.mark_running(job.id, worker="test").claim
        out = output_dir(settings, job.id)
        out.mkdir()
        (out / "annotated.mp4").write_bytes(sample_video.read_bytes())
        (out / "keypoints.csv").write_text("frame,track_id\n" * 1000)
        assert store.mark_succeeded(job.id, outputs={"video": "annotated.mp4", "csv": "keypoints.csv"},
                                    timings={}, claim=claim)
        before = _files(out)
        fill(disk, leave_bytes=64 * 1024)
        client = app.test_client()
        response = client.get(f"/jobs/{job.id}/download.zip")
        assert response.status_code == 503 and response.headers["Retry-After"]
        assert str(escape(STORAGE_FULL)) in response.get_data(as_text=True)
        assert str(escape("The server's storage is full")) in response.get_data(as_text=True)  # the title
        assert _files(out) == before  # no half-built ZIP
        free(disk)
        again = client.get(f"/jobs/{job.id}/download.zip")
        assert again.status_code == 200 and again.data[:2] == b"PK"

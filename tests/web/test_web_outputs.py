"""Serving a finished job's outputs: range requests, MIME types, the all-in-one ZIP, no escape
from the job's folder, and the JSON/HTML 404s."""
from __future__ import annotations

import io
import zipfile
from typing import Callable
from urllib.parse import quote

import pytest
from flask import Flask
from werkzeug.http import parse_options_header

from config import Settings
from jobs import Job, output_dir


def test_api_lists_output_urls_once_succeeded(app: Flask, finished_job: Callable[..., Job]) -> None:
    job = finished_job()
    body = app.test_client().get(f"/api/jobs/{job.id}").get_json()
    assert body["state"] == "succeeded" and body["progress"] == 1.0
    out = body["outputs"]
    base = f"/jobs/{job.id}/files/"
    assert out["video"] == base + "annotated.mp4"
    assert out["keypoints_json"] == base + "keypoints.json"
    assert out["csv"] == base + "keypoints.csv"
    assert out["openpose_zip"] == base + "openpose_json.zip"
    assert out["zip"] == f"/jobs/{job.id}/download.zip"
    assert out["screenshots"] == [base + "screenshots/t000000.000.jpg", base + "screenshots/t000005.000.jpg"]
    assert out["poster"] == base + "screenshots/poster.jpg"


@pytest.mark.parametrize("name, mimetype", [
    ("annotated.mp4", "video/mp4"),
    ("screenshots/t000005.000.jpg", "image/jpeg"),
    ("keypoints.json", "application/json"),
    ("keypoints.csv", "text/csv"),
    ("openpose_json.zip", "application/zip"),
])
def test_files_have_the_right_mime_type(app: Flask, finished_job: Callable[..., Job],
                                        name: str, mimetype: str) -> None:
    job = finished_job()
    response = app.test_client().get(f"/jobs/{job.id}/files/{name}")
    assert response.status_code == 200
    assert response.mimetype == mimetype


def test_video_supports_range_requests(app: Flask, settings: Settings,
                                       finished_job: Callable[..., Job]) -> None:
    job = finished_job()
    whole = (output_dir(settings, job.id) / "annotated.mp4").read_bytes()
    client = app.test_client()
    response = client.get(f"/jobs/{job.id}/files/annotated.mp4", headers={"Range": "bytes=1000-1999"})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 1000-1999/{len(whole)}"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.data == whole[1000:2000]
    tail = client.get(f"/jobs/{job.id}/files/annotated.mp4", headers={"Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.data == whole[-100:]
    bad = client.get(f"/jobs/{job.id}/files/annotated.mp4", headers={"Range": f"bytes={len(whole) + 5}-"})
    assert bad.status_code == 416


@pytest.mark.parametrize("path", [
    "../secret.txt",
    "..%2Fsecret.txt",
    "screenshots/../../secret.txt",
    "%2e%2e/%2e%2e/instance/secret_key",
    "/etc/passwd",
    "screenshots/../../../uploads/x/source",
])
def test_paths_outside_the_job_folder_are_not_found(app: Flask, settings: Settings,
                                                   finished_job: Callable[..., Job], path: str) -> None:
    job = finished_job()
    (settings.outputs_dir / "secret.txt").write_text("not yours")
    # (a doubled slash is first redirected to the merged path, which is then not found)
    response = app.test_client().get(f"/jobs/{job.id}/files/{path}", follow_redirects=True)
    assert response.status_code == 404
    assert b"not yours" not in response.data
    # The job's own files are still served afterwards.
    assert app.test_client().get(f"/jobs/{job.id}/files/keypoints.json").status_code == 200


def test_unknown_job_is_a_clear_404_in_json_and_html(app: Flask) -> None:
    client = app.test_client()
    api = client.get("/api/jobs/doesnotexist")
    assert api.status_code == 404 and "no job with id" in api.get_json()["error"].lower()
    page = client.get("/jobs/doesnotexist")
    assert page.status_code == 404 and "text/html" in page.content_type
    assert "There is no job with id" in page.get_data(as_text=True)
    assert client.get("/jobs/doesnotexist/files/annotated.mp4").status_code == 404
    assert client.get("/jobs/doesnotexist/download.zip").status_code == 404
    assert app.test_client().post("/api/jobs/doesnotexist/cancel").status_code == 404  # no cookie
    nowhere = client.get("/no/such/page")
    assert nowhere.status_code == 404 and "nothing at this address" in nowhere.get_data(as_text=True)
    assert client.get("/api/nothing").get_json()["status"] == 404


def test_all_in_one_zip_holds_every_output(app: Flask, settings: Settings,
                                           finished_job: Callable[..., Job]) -> None:
    job = finished_job()
    folder = output_dir(settings, job.id)
    expected = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    client = app.test_client()
    response = client.get(f"/jobs/{job.id}/download.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert archive.testzip() is None
        assert sorted(archive.namelist()) == expected
        assert archive.read("annotated.mp4") == (folder / "annotated.mp4").read_bytes()
    again = client.get(f"/jobs/{job.id}/download.zip", headers={"Range": "bytes=0-99"})
    assert again.status_code == 206 and again.data == response.data[:100]  # cached, byte-identical


@pytest.mark.parametrize("when", ["while zipping", "once zipped"])
def test_a_zip_download_racing_a_delete_is_a_clean_404(app: Flask, store, settings: Settings,
                                                       finished_job: Callable[..., Job], monkeypatch, when: str) -> None:
    """The job is deleted (the real delete_job: record, upload, outputs) while its ZIP is built, or
    between the build and the send: a 404 that says so (it was a 500, FileNotFoundError at the
    rename), and nothing of the job is left on disk. Only the timing is forced, by wrapping the
    build step the delete lands in; requests alone cannot hit such a window on purpose."""
    import web.outputs
    from jobs.retention import delete_job

    job = finished_job()
    folder = output_dir(settings, job.id)
    if when == "while zipping":
        real_write = zipfile.ZipFile.write

        def write_then_delete(archive, *args, **kwargs):
            if folder.exists():
                delete_job(store, settings, job.id)
            return real_write(archive, *args, **kwargs)
        monkeypatch.setattr(zipfile.ZipFile, "write", write_then_delete)
    else:
        real_build = web.outputs.build_zip

        def build_then_delete(path):
            built = real_build(path)
            delete_job(store, settings, job.id)
            return built
        monkeypatch.setattr(web.outputs, "build_zip", build_then_delete)
    response = app.test_client().get(f"/jobs/{job.id}/download.zip")
    assert response.status_code == 404, response.get_data(as_text=True)[:300]
    assert "deleted" in response.get_data(as_text=True) or "no job" in response.get_data(as_text=True)
    assert not folder.exists() and list(folder.parent.glob(f"*{job.id}*")) == []
    monkeypatch.undo()
    assert app.test_client().get(f"/jobs/{job.id}/download.zip").status_code == 404


def test_zip_download_name_is_safe_for_any_source_name(app: Flask, store, settings: Settings) -> None:
    # A script can send any file name (RFC 2231 filename*= decodes to control characters too).
    for source, expected in (("evil\r\nSet-Cookie: x=1.mp4", "evil_Set-Cookie_ x_1"),
                             ('fête "à" <b>.mov', "fête _à_ _b_"), ("../..", "video")):
        job = store.create_job(source_name=source, options={}, owner=None, source_meta={})
        claim = store.mark_running(job.id, worker="test").claim
        output_dir(settings, job.id).mkdir(parents=True)
        (output_dir(settings, job.id) / "keypoints.csv").write_text("frame\n")
        assert store.mark_succeeded(job.id, outputs={"csv": "keypoints.csv"}, timings={}, claim=claim)
        response = app.test_client().get(f"/jobs/{job.id}/download.zip")
        assert response.status_code == 200, source
        disposition = response.headers["Content-Disposition"]
        assert "Set-Cookie" not in response.headers and "\n" not in disposition
        name = f"posestudio-{expected}-{job.id[:8]}.zip"
        assert f'filename="{name}"' in disposition or quote(name) in disposition, disposition


@pytest.mark.parametrize("char", ["a", "é", "𠀀"])  # 1, 2 and 4 bytes of UTF-8
def test_zip_download_name_fits_a_file_name_whatever_the_upload_was_called(
        app: Flask, store, settings: Settings, char: str) -> None:
    job = store.create_job(source_name=char * 300 + ".mp4", options={}, owner=None, source_meta={})
    claim = store.mark_running(job.id, worker="test").claim
    output_dir(settings, job.id).mkdir(parents=True)
    (output_dir(settings, job.id) / "keypoints.csv").write_text("frame\n")
    assert store.mark_succeeded(job.id, outputs={"csv": "keypoints.csv"}, timings={}, claim=claim)
    response = app.test_client().get(f"/jobs/{job.id}/download.zip")
    assert response.status_code == 200
    name = parse_options_header(response.headers["Content-Disposition"])[1]["filename"]
    assert name.startswith("posestudio-" + char * 10) and name.endswith(f"-{job.id[:8]}.zip")
    assert len(name.encode()) <= 255


def test_zip_of_an_unfinished_job_is_404(app: Flask, store) -> None:
    job = store.create_job(source_name="a.mp4", options={}, owner=None, source_meta={})
    response = app.test_client().get(f"/jobs/{job.id}/download.zip")
    assert response.status_code == 404 and "not finished" in response.get_data(as_text=True)


def test_job_page_shows_player_gallery_and_downloads(app: Flask, finished_job: Callable[..., Job]) -> None:
    job = finished_job()
    page = app.test_client().get(f"/jobs/{job.id}").get_data(as_text=True)
    assert f'poster="/jobs/{job.id}/files/screenshots/poster.jpg"' in page
    assert 'preload="metadata"' in page and 'type="video/mp4"' in page
    assert page.count('class="thumb"') == 2 and 'id="lightbox"' in page
    assert f'href="/jobs/{job.id}/download.zip"' in page
    assert "0:05" in page  # screenshot time label from its file name


@pytest.mark.parametrize("name, label", [
    ("t0000000.000s.jpg", "0:00"), ("t0000000.500s.jpg", "0:00.5"), ("t0000065.000s.jpg", "1:05"),
    ("t000005.000.jpg", "0:05"), ("poster.jpg", "poster.jpg"),
])
def test_screenshot_labels(name: str, label: str) -> None:
    from web.outputs import screenshot_label

    assert screenshot_label(f"/jobs/x/files/screenshots/{name}") == label


@pytest.fixture
def many_shots_job(store, settings: Settings) -> Job:
    """A succeeded job with 250 screenshots (one a frame of a 10 s clip at 25 fps)."""
    from web_helpers import tiny_jpeg

    job = store.create_job(source_name="busy.mp4", options={}, owner=None, source_meta={})
    claim = store.mark_running(job.id, worker="test").claim
    shots = output_dir(settings, job.id) / "screenshots"
    shots.mkdir(parents=True)
    names = [f"screenshots/t{i / 25:011.3f}s.jpg" for i in range(250)]
    jpeg = tiny_jpeg()
    for name in names:
        (output_dir(settings, job.id) / name).write_bytes(jpeg)
    assert store.mark_succeeded(job.id, outputs={"screenshots": names}, timings={}, claim=claim)
    return store.get(job.id)


def test_the_job_json_lists_the_first_screenshots_and_says_how_many(app: Flask, many_shots_job: Job) -> None:
    out = app.test_client().get(f"/api/jobs/{many_shots_job.id}").get_json()["outputs"]
    assert len(out["screenshots"]) == 60 and out["screenshot_count"] == 250
    assert out["screenshots"][0].endswith("/screenshots/t0000000.000s.jpg")
    assert out["screenshots_url"] == f"/api/jobs/{many_shots_job.id}/screenshots"


def test_the_api_pages_through_every_screenshot(app: Flask, many_shots_job: Job) -> None:
    client, base = app.test_client(), f"/api/jobs/{many_shots_job.id}/screenshots"
    seen, url = [], base + "?limit=100"
    while url:
        page = client.get(url).get_json()
        assert page["total"] == 250 and page["limit"] == 100
        seen += page["screenshots"]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 250
    assert seen[-1].endswith("/screenshots/t0000009.960s.jpg")
    tail = client.get(base + "?offset=240").get_json()
    assert (len(tail["screenshots"]), tail["limit"], tail["next"]) == (10, 100, None)
    assert client.get(base + "?offset=1000").get_json()["screenshots"] == []


@pytest.mark.parametrize("query, field", [("limit=0", "limit"), ("limit=501", "limit"), ("limit=ten", "limit"),
                                          ("offset=-1", "offset"), ("offset=1e3", "offset")])
def test_bad_paging_values_are_a_400_naming_the_field(app: Flask, many_shots_job: Job, query, field) -> None:
    response = app.test_client().get(f"/api/jobs/{many_shots_job.id}/screenshots?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"].startswith(f"{field} must be a whole number between")


def test_screenshots_of_an_unfinished_job_are_404(app: Flask, store) -> None:
    job = store.create_job(source_name="q.mp4", options={}, owner=None, source_meta={})
    assert app.test_client().get(f"/api/jobs/{job.id}/screenshots").status_code == 404


def test_the_job_page_gallery_pages_through_long_screenshot_lists(app: Flask, many_shots_job: Job) -> None:
    client, url = app.test_client(), f"/jobs/{many_shots_job.id}"
    first = client.get(url).get_data(as_text=True)
    assert first.count('class="thumb"') == 60 and "Screenshots <span class=\"count\">(250)</span>" in first
    assert "Page 1 of 5" in first and f'href="{url}?page=2#gallery-title"' in first and 'rel="prev"' not in first
    last = client.get(url + "?page=5").get_data(as_text=True)
    assert last.count('class="thumb"') == 10 and "screenshots 241–250" in last
    assert 'data-offset="240" data-total="250"' in last and 'rel="next"' not in last
    assert "0:09.9" in last  # the 248th frame's label (9.92 s)
    assert client.get(url + "?page=6").status_code == 400
    assert client.get(url + "?page=x").status_code == 400

"""An image job in a real browser (Debian's chromium through Playwright): three real COCO photos
with several people each are chosen on the upload page and sent as one job, the real task body
runs it with the real model, and the job page shows the gallery with skeletons and people
counts; one photo opens larger with the angles of a chosen person; the ZIP downloads. PNGs of
the pages go to test-artifacts/web/ for a person to look at."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from web_helpers import LiveServer, app_and_task, chromium, page_errors

pytestmark = [pytest.mark.browser, pytest.mark.model]
# Several people each (COCO annotations: 4, 7 and 5 people with keypoints).
PHOTOS = ("000000000790.jpg", "000000322517.jpg", "000000197388.jpg")


def test_three_photos_gallery_larger_view_and_zip(tmp_path: Path, model_path: Path, shared_data: Path,
                                                   artifacts_dir: Path) -> None:
    artifacts = artifacts_dir / "web"
    artifacts.mkdir(exist_ok=True)
    app, _settings, store, task = app_and_task(tmp_path, model_path=model_path)
    files = [str(shared_data / "coco" / "images" / name) for name in PHOTOS]
    with LiveServer(app) as server, chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        page = context.new_page()
        errors = page_errors(page, failed_requests=True)
        page.goto(server.url + "/")
        page.set_input_files("#image-input", files)
        assert page.locator("#file-list .file-name").inner_text() == "3 photos (one job)"
        page.select_option("#quality", "balanced")
        page.screenshot(path=str(artifacts / "images-upload.png"), full_page=True)
        page.click("#upload-button")
        page.wait_for_url("**/jobs/*", timeout=60_000)
        job_id = page.url.rstrip("/").rsplit("/", 1)[-1]
        job = store.get(job_id)
        assert job.kind == "images" and len(job.source_meta["images"]) == 3
        assert task(job_id) == "succeeded"  # the worker's task body, in this process

        page.reload()
        page.wait_for_selector("#photos[data-ready='1']", timeout=30_000)
        thumbs = page.locator(".photo-thumb img")
        assert thumbs.count() == 3
        for i in range(3):  # every image loaded (not a broken picture)
            assert page.evaluate(f"document.querySelectorAll('.photo-thumb img')[{i}].naturalWidth") > 300
        counts = [int(page.locator(".photo-item").nth(i).get_attribute("data-people")) for i in range(3)]
        assert all(n >= 2 for n in counts), counts
        names = page.locator(".photo-name").all_inner_texts()
        assert names == list(PHOTOS)
        page.screenshot(path=str(artifacts / "images-gallery.png"), full_page=True)

        page.locator(".photo-thumb").nth(0).click()
        detail = page.locator("#photo-detail")
        assert detail.is_visible()
        assert PHOTOS[0] in page.locator("#photo-title").inner_text()
        assert page.locator("#photo-person option").count() == counts[0]
        page.select_option("#photo-person", "1")
        rows = page.locator("#photo-angles tbody tr")
        assert rows.count() == 20  # OpenPose-18's angles
        assert any(v != "–" for v in page.locator("#photo-angles tbody td").all_inner_texts())
        page.screenshot(path=str(artifacts / "images-detail.png"), full_page=True)

        with page.expect_download() as download_info:
            page.click("#download-zip")
        saved = tmp_path / "all.zip"
        download_info.value.save_as(saved)
        with zipfile.ZipFile(saved) as archive:
            names = archive.namelist()
        assert sum(n.startswith("images/") and n.endswith(".jpg") for n in names) == 3
        assert {"keypoints.json", "keypoints.csv", "angles.csv", "openpose_json.zip"} <= set(names)
        context.close()
    assert errors == []

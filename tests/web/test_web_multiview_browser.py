"""A multi-view job in a real browser (Debian's chromium through Playwright): the four real views
of Pose2Sim's demo and its Qualisys calibration are chosen in the upload page's "Several
cameras" part and sent as one job, the real task body runs it with the real model (0.6 s of each
view at 256 px), and the job page shows the views with the 3D skeletons reprojected, the 3D scene
with the person drawn, the views' grid and the person's 3D angle curves following the scene's
frame, the reprojection error per camera; a TRC downloads. PNGs of the pages go
to test-artifacts/web/ for a person to look at."""
from __future__ import annotations

from pathlib import Path

import pytest

from web_helpers import LiveServer, app_and_task, chromium, page_errors

pytestmark = [pytest.mark.browser, pytest.mark.model, pytest.mark.timeout(300)]
CAMERAS = ("cam01.mp4", "cam02.mp4", "cam03.mp4", "cam04.mp4")


def test_four_views_grid_3d_scene_and_trc(tmp_path: Path, model_path: Path, shared_data: Path,
                                          artifacts_dir: Path) -> None:
    artifacts = artifacts_dir / "web"
    artifacts.mkdir(exist_ok=True)
    demo = shared_data / "multiview" / "pose2sim_single"
    app, _settings, store, task = app_and_task(tmp_path, model_path=model_path, max_upload_bytes=64 * 1024**2)
    with LiveServer(app) as server, chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        page = context.new_page()
        errors = page_errors(page, failed_requests=True)
        page.goto(server.url + "/")
        page.set_input_files("#views-input", [str(demo / name) for name in CAMERAS])
        page.set_input_files("#calibration-input", str(demo / "Calib.qca.txt"))
        page.click("#multiview-add")
        assert page.locator("#file-list .file-name").inner_text() == "4 views and Calib.qca.txt (one 3D job)"
        page.select_option("#net_height", "256")
        page.evaluate("document.getElementById('end_s').value = '0.6'")
        assert not page.is_checked("#keypoints_only")  # the overlays are the views' real frames
        page.screenshot(path=str(artifacts / "multiview-upload.png"), full_page=True)
        page.click("#upload-button")
        page.wait_for_url("**/jobs/*", timeout=60_000)
        job_id = page.url.rstrip("/").rsplit("/", 1)[-1]
        job = store.get(job_id)
        assert job.kind == "multiview" and [v["name"] for v in job.source_meta["views"]] == list(CAMERAS)
        assert job.options["end_s"] == 0.6 and job.options["net_height"] == 256
        assert task(job_id) == "succeeded", store.get(job_id).error  # the worker's task body, in this process

        page.reload()
        page.wait_for_selector("#scene3d[data-ready='1']", timeout=30_000)
        views = page.locator("#view-grid img")
        assert views.count() == 4
        for i in range(4):  # every overlay loaded (not a broken picture)
            assert page.evaluate(f"document.querySelectorAll('#view-grid img')[{i}].naturalWidth") == 540
        assert int(page.locator("#scene3d canvas").get_attribute("data-people")) >= 1
        assert "person" in page.locator("#scene3d-status").inner_text()
        rows = page.locator("#reprojection-table tbody tr")
        assert rows.count() == 4
        assert page.locator("#reprojection-table tbody th").all_inner_texts() == ["cam01", "cam02", "cam03", "cam04"]
        medians = [float(page.locator("#reprojection-table tbody tr").nth(i).locator("td").nth(1).inner_text())
                   for i in range(4)]
        assert all(0 < m < 30 for m in medians), medians
        page.wait_for_selector("#angles3d:not([hidden])")  # the subject's 3D angle curves
        assert int(page.locator("#angles3d").get_attribute("data-charts")) >= 4
        labels = page.locator("#angles3d-charts figcaption strong").all_inner_texts()
        assert "Right knee" in labels and "Left knee" in labels, labels
        assert page.locator("#angles3d").get_attribute("data-frame") == page.locator("#scene3d-frame").input_value()
        knee = page.locator("#angles3d-charts figure[data-angle='right_knee'] svg")
        box = knee.bounding_box()
        knee.click(position={"x": box["width"] * 0.2, "y": box["height"] / 2})  # the scene goes there
        frame = page.locator("#scene3d-frame").input_value()
        assert page.locator("#scene3d canvas").get_attribute("data-frame") == frame
        assert page.locator("#angles3d").get_attribute("data-frame") == frame
        last = int(page.locator("#scene3d-frame").get_attribute("max"))
        assert 0 < int(frame) < last / 2, (frame, last)
        shown = page.locator("#view-grid .view-item").evaluate_all("items => items.map(i => i.dataset.frame)")
        assert len(set(shown)) == 1 and shown[0] is not None, shown  # every view at the same moment
        moments = page.locator("#view-grid .view-item").first.evaluate("i => JSON.parse(i.dataset.moments)")
        nearest = min(moments, key=lambda m: abs(m["frame"] - int(frame)))  # the scene's step is 1 here
        assert len(moments) >= 4 and int(shown[0]) == nearest["frame"]
        assert page.locator("#view-grid img").first.get_attribute("src") == nearest["url"]
        page.wait_for_function("[...document.querySelectorAll('#view-grid img')].every(i => i.complete && i.naturalWidth === 540)")
        page.screenshot(path=str(artifacts / "multiview-job.png"), full_page=True)
        page.locator("#angles3d").screenshot(path=str(artifacts / "multiview-angles.png"))
        canvas = page.locator("#scene3d canvas")
        box = canvas.bounding_box()
        page.mouse.move(box["x"] + 100, box["y"] + 100)
        page.mouse.down()
        page.mouse.move(box["x"] + 300, box["y"] + 140)
        page.mouse.up()
        canvas.screenshot(path=str(artifacts / "multiview-scene-turned.png"))

        page.goto(server.url + "/jobs")  # My jobs: the job, with the first view's overlay as its thumbnail
        thumb = page.locator(f"a[href$='/jobs/{job_id}'] img.job-thumb, li:has(a[href$='/jobs/{job_id}']) img.job-thumb")
        assert thumb.count() >= 1 and "/overlays/cam01.jpg" in thumb.first.get_attribute("src")
        page.go_back()
        page.wait_for_selector("#scene3d[data-ready='1']", timeout=30_000)
        trc = page.locator(".download-trc").first
        with page.expect_download() as download_info:
            trc.click()
        saved = tmp_path / "person.trc"
        download_info.value.save_as(saved)
        text = saved.read_text()
        assert text.startswith("PathFileType") and "Nose" in text and "RShoulder" in text
    assert errors == []

"""The job page's People section in a real browser (Debian's chromium through Playwright): a
finished job whose people are known exactly (people_job.py: two skeletons with known angles in a
real H.264 video). The list shows both tracks with thumbnails and when they are seen; choosing
one draws their curves; clicking a curve, or an arrow key on it, moves the video; the cursor and
the table follow the video; the person's .mot downloads on its own. PNGs of the page go to
test-artifacts/web/ for a person to look at."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask

from config import Settings
from jobs import JobStore
from people_job import knee_at, make_people_job
from web_helpers import LiveServer, chromium, page_errors

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "analysis"))
from opensim_readers import read_mot  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture
def browser() -> Iterator:
    with chromium() as browser:
        yield browser


def video_time(page) -> float:
    return page.evaluate("document.querySelector('#result-video').currentTime")


def cursor_x(page, chart: int = 0) -> float:
    return float(page.locator("#person-charts .cursor").nth(chart).get_attribute("x1"))


def test_people_section(app: Flask, store: JobStore, settings: Settings, browser, artifacts_dir: Path,
                        tmp_path: Path) -> None:
    artifacts = artifacts_dir / "web"
    artifacts.mkdir(exist_ok=True)
    job = make_people_job(store, settings)
    with LiveServer(app) as server:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        page = context.new_page()
        errors = page_errors(page)
        page.goto(f"{server.url}/jobs/{job.id}")

        # The list: both tracks, when they are seen, a thumbnail cropped from a screenshot.
        rows = page.locator("#people-list .person-row")
        rows.nth(1).wait_for(timeout=10_000)
        assert rows.count() == 2
        assert "Person 1" in rows.nth(0).inner_text() and "0:00.0–0:03.0 · 90 frames" in rows.nth(0).inner_text()
        assert "Person 2" in rows.nth(1).inner_text() and "0:01.0–0:02.5 · 45 frames" in rows.nth(1).inner_text()
        timeline = rows.nth(1).locator("svg.timeline")
        assert timeline.get_attribute("aria-label") == "Seen from 0:01.0 to 0:02.5 in 1 stretch"
        span = rows.nth(1).locator(".timeline-span")
        assert float(span.get_attribute("x")) == pytest.approx(1000 / 3, abs=2)  # from 1.0 s of 3.0 s
        for i in range(2):
            assert "/files/screenshots/t000000" in rows.nth(i).locator("svg.person-thumb image").get_attribute("href")
        page.wait_for_function("() => [...document.querySelectorAll('.person-thumb image')].length === 2")
        assert page.locator("#person-detail").is_hidden()
        page.locator("#people").screenshot(path=str(artifacts / "12-people-list.png"))

        # Choosing person 2 draws their curves and table: the elbow held at 90 degrees.
        rows.nth(1).click()
        page.wait_for_selector("#person-detail:not([hidden]) #person-charts .chart")
        assert rows.nth(1).get_attribute("aria-pressed") == "true"
        assert rows.nth(0).get_attribute("aria-pressed") == "false"
        assert page.inner_text("#person-title") == "Person 2"
        assert page.locator("#person-charts .chart").count() == 8  # joint angles; segments in <details>
        assert page.locator("#person-segment-charts .chart").count() == 12
        elbow = page.locator("#person-table tr[data-angle=right_elbow]")
        assert elbow.locator("td").nth(2).inner_text() == "90.0°"  # min
        assert page.locator("#person-charts .line-smoothed").nth(0).get_attribute("d").startswith("M")

        # Person 1: their knee curve; a click on it moves the video to that time.
        rows.nth(0).click()
        page.wait_for_function("() => document.querySelector('#person-title').textContent === 'Person 1'")
        knee = page.locator("#person-charts .chart-svg").nth(0)
        assert knee.get_attribute("aria-label").startswith("Right knee over time: from 10.")
        assert page.locator("#person-charts .line-raw").nth(0).get_attribute("d").startswith("M")
        page.screenshot(path=str(artifacts / "13-person-curves.png"), full_page=True)
        box = knee.bounding_box()
        width = float(knee.get_attribute("width"))
        left, plot = 46 / width * box["width"], (width - 56) / width * box["width"]  # the chart's padding
        knee.click(position={"x": left + plot / 2, "y": box["height"] / 2})
        expected = 89 / 30 / 2
        page.wait_for_function("t => Math.abs(document.querySelector('#result-video').currentTime - t) < 0.02",
                               arg=expected)
        assert cursor_x(page) == pytest.approx(46 + (width - 56) / 2, abs=1.5)  # the cursor is where we clicked
        page.wait_for_function("() => document.querySelector('#person-now').textContent === '0:01.5'")
        now = page.locator("#person-table tr[data-angle=right_knee] td").nth(0).inner_text()
        assert float(now.rstrip("°")) == pytest.approx(knee_at(round(expected * 30) / 30), abs=1.0)
        # The chart is a slider over time: a screen reader hears the value at the cursor too.
        assert knee.get_attribute("role") == "slider"
        assert knee.get_attribute("aria-valuetext").startswith(f"0:01.5: {now} (as detected ")
        page.locator("#result-video").scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "14-person-seeked.png"), full_page=True)

        # The arrow keys on a chart step the video a frame.
        before = video_time(page)
        knee.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"() => document.querySelector('#result-video').currentTime > {before + 0.02}")
        assert video_time(page) == pytest.approx(before + 1 / 30, abs=0.01)

        # Playing the video moves the cursor with it.
        page.evaluate("document.querySelector('#result-video').currentTime = 0.2")
        page.wait_for_function("() => document.querySelector('#result-video').readyState >= 2")
        start = cursor_x(page)
        page.evaluate("() => { const v = document.querySelector('#result-video'); v.muted = true; return v.play(); }")
        page.wait_for_function("() => document.querySelector('#result-video').currentTime > 1.0", timeout=15_000)
        page.evaluate("document.querySelector('#result-video').pause()")
        page.wait_for_timeout(100)
        moved = cursor_x(page)
        assert moved > start + 50
        t = video_time(page)
        assert moved == pytest.approx(46 + t / (89 / 30) * (width - 56), abs=3)

        # The person's own data downloads on its own.
        with page.expect_download() as info:
            page.click("#person-downloads a[data-kind=mot]")
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        assert path.name == "person_1_angles.mot"
        mot = read_mot(path)
        assert mot.columns[:2] == ["time", "right_knee"] and len(mot.data) == 90
        context.close()

        # A phone: the list and charts fit the width.
        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
        small = phone.new_page()
        small.goto(f"{server.url}/jobs/{job.id}")
        small.locator("#people-list .person-row").nth(0).click()
        small.wait_for_selector("#person-charts .chart")
        assert small.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        small.locator("#people").screenshot(path=str(artifacts / "15-people-phone.png"))
        phone.close()
    assert errors == [], errors


def test_blazepose_job_shows_a_turnable_3d_skeleton_that_follows_the_video(
        app: Flask, store: JobStore, settings: Settings, browser, artifacts_dir: Path, videos_dir: Path,
        blazepose_estimator_factory) -> None:
    """A real BlazePose job (the real model on 1 s of the Pose2Sim clip): choosing the person shows
    their 3D pose on a canvas; it follows the video's time, and a mouse drag turns it."""
    from people_job import make_blazepose_job

    artifacts = artifacts_dir / "web"
    artifacts.mkdir(exist_ok=True)
    job = make_blazepose_job(store, settings, videos_dir / "pose2sim_trial1_cam01.mp4")
    with LiveServer(app) as server:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        errors = page_errors(page)
        page.goto(f"{server.url}/jobs/{job.id}")
        assert "not produced for this model" in page.inner_text("#openpose-not-produced")
        row = page.locator("#people-list .person-row")
        row.nth(0).wait_for(timeout=10_000)
        assert row.count() == 1
        row.nth(0).click()
        page.wait_for_selector("#pose3d:not([hidden]) canvas")
        canvas = page.locator("#pose3d canvas")
        page.wait_for_function("() => document.querySelector('#pose3d canvas').dataset.frame === '0'")
        assert "3D pose at 0.00 s" in page.inner_text("#pose3d-status")
        assert "right ankle" not in page.inner_text("#person-conventions")  # every angle is available
        assert page.locator("#person-table tr[data-angle=right_ankle]").count() == 1

        def pixels() -> bytes:
            return canvas.screenshot()

        still = pixels()
        page.evaluate("document.querySelector('#result-video').currentTime = 0.5")
        page.wait_for_function("() => document.querySelector('#pose3d canvas').dataset.frame === '30'")
        assert "3D pose at 0.50 s" in page.inner_text("#pose3d-status")
        moved_in_time = pixels()
        assert moved_in_time != still
        box = canvas.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] / 2 + 120, box["y"] + box["height"] / 2, steps=6)
        page.mouse.up()
        assert float(canvas.get_attribute("data-yaw")) == pytest.approx(-0.6 + 1.2, abs=0.05)
        turned = pixels()
        assert turned != moved_in_time
        page.locator("#pose3d").screenshot(path=str(artifacts / "16-pose3d-turned.png"))
        canvas.focus()
        page.keyboard.press("Home")
        assert float(canvas.get_attribute("data-yaw")) == pytest.approx(-0.6, abs=1e-3)
        page.screenshot(path=str(artifacts / "17-blazepose-job.png"), full_page=True)
        page.close()
    assert errors == [], errors


def test_facing_is_shown_and_can_be_set(app: Flask, store: JobStore, settings: Settings, browser,
                                        artifacts_dir: Path) -> None:
    artifacts = artifacts_dir / "web"
    artifacts.mkdir(exist_ok=True)
    job = make_people_job(store, settings)
    with LiveServer(app) as server:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{server.url}/jobs/{job.id}")
        page.locator("#people-list .person-row").nth(1).click()
        page.wait_for_selector("#person-facing .facing-strip rect")
        assert "Facing: facing left 0:01.0–0:02.5" in page.locator("#person-facing .facing-text").inner_text()
        assert page.locator("#person-facing rect").get_attribute("data-facing") == "left"
        row = page.locator("#person-table tbody tr[data-angle='right_elbow']")
        assert row.locator("td").nth(2).inner_text() == "90.0°"  # min
        # The user says person 2 faces right: the angles are derived again, the page follows.
        page.select_option("#facing-choice", "right")
        page.click("#person-facing button[type=submit]")
        page.wait_for_function("() => document.querySelector('#facing-status')?.textContent.includes('updated')")
        assert "facing right" in page.locator("#person-facing .facing-text").inner_text()
        assert "(set by you)" in page.locator("#person-facing .facing-text").inner_text()
        assert page.locator("#person-table tbody tr[data-angle='right_elbow'] td").nth(2).inner_text() == "-90.0°"
        assert page.locator("#facing-choice").input_value() == "right"
        page.locator("#person-detail").screenshot(path=str(artifacts / "19-person-facing.png"))
        # Person 1's knees bend five times (people_job.py): the reps are marked on the curve.
        page.locator("#people-list .person-row").nth(0).click()
        page.wait_for_selector("#person-charts .chart-reps .rep-band")
        assert "5 reps" in page.locator("#people-list .person-row").nth(0).inner_text()
        chart = page.locator("#person-charts .chart-reps").first
        assert chart.locator(".rep-band").count() == 5 and "5 reps (counted on this angle)" in chart.inner_text()
        chart.screenshot(path=str(artifacts / "19-person-reps.png"))
        assert not errors, errors

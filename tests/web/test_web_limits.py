"""Resource limits at submit time: real uploads of generated clips through the Flask test client.
A job over a limit is a 413 whose message names the limit and both numbers; nothing is stored
or queued. Also: tiny frames, huge start times, a 1000 fps clip, the non-multipart body limit."""
from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from config import Settings
from jobs import JobStore
from web_helpers import csrf_of, make_settings


def clip_bytes(tmp_path: Path, *, size=(64, 48), frames=3, fps=25) -> bytes:
    path = tmp_path / f"clip-{size[0]}x{size[1]}-{frames}-{fps}.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(frames):
            image = np.full((size[1], size[0], 3), 20 + 9 * i % 200, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path.read_bytes()


def post(client: FlaskClient, data: bytes, name: str = "clip.mp4", **fields):
    return client.post("/api/jobs", data={"video": (io.BytesIO(data), name), **fields},
                       content_type="multipart/form-data")


def nothing_kept(settings: Settings, store: JobStore) -> bool:
    return store.list_jobs() == [] and not [p for p in settings.uploads_dir.rglob("*") if p.is_file()]


def limited_app(tmp_path: Path, **limits) -> Flask:
    settings = make_settings(tmp_path / "limited")
    settings = settings.with_overrides(limits=replace(settings.limits, **limits))
    return create_app({"SETTINGS": settings, "TESTING": True})


def test_the_issue_s_wide_clip_at_net_height_2048_upsample_16_is_a_413_naming_the_limit(
        app: Flask, store: JobStore, settings: Settings, tmp_path: Path) -> None:
    wide = clip_bytes(tmp_path, size=(1600, 400), frames=5)
    response = post(app.test_client(), wide, "wide.mp4", net_height="2048", upsample="16")
    assert response.status_code == 413
    message = response.get_json()["error"]
    assert message.startswith("'wide.mp4': net_height x net_width = 2048 x 8192 = 16,777,216 network input "
                              "pixels exceeds the limit of 1,048,576 (MAX_NETWORK_PIXELS")
    response = post(app.test_client(), wide, "wide.mp4", net_height="512", upsample="16")
    assert response.status_code == 413
    assert ("net_height x net_width x upsample^2 = 512 x 2048 x 16^2 = 268,435,456 exceeds the limit of "
            "67,108,864 (MAX_HEATMAP_PIXELS") in response.get_json()["error"]
    assert nothing_kept(settings, store)
    assert post(app.test_client(), wide, "wide.mp4", net_height="512", upsample="4").status_code == 202


def test_frames_over_the_frame_size_limit_are_a_413(app: Flask, store: JobStore, settings: Settings,
                                                    tmp_path: Path) -> None:
    response = post(app.test_client(), clip_bytes(tmp_path, size=(4608, 2160), frames=1), "big.mp4")
    assert response.status_code == 413
    assert response.get_json()["error"] == (
        "'big.mp4': its frames are 4608 x 2160 = 9,953,280 pixels, over the limit of 8,847,360 "
        "(MAX_FRAME_PIXELS); scale the video down first")
    assert nothing_kept(settings, store)


def test_a_2x2_video_is_refused_at_upload_naming_the_file(app: Flask, store: JobStore, settings: Settings,
                                                          tmp_path: Path) -> None:
    response = post(app.test_client(), clip_bytes(tmp_path, size=(2, 2)), "dot.mp4")
    assert response.status_code == 422
    assert response.get_json()["error"] == (
        "'dot.mp4' is 2x2 pixels; frames must be at least 8 pixels on each side")
    assert nothing_kept(settings, store)


def test_too_many_frames_is_a_413_and_a_range_that_fits_is_accepted(tmp_path: Path) -> None:
    app = limited_app(tmp_path, max_frames=20)
    clip = clip_bytes(tmp_path, frames=30)
    response = post(app.test_client(), clip, "long.mp4")
    assert response.status_code == 413
    assert response.get_json()["error"].startswith(
        "'long.mp4': 30 frames to process exceeds the limit of 20 (MAX_FRAMES); process a part of it")
    assert post(app.test_client(), clip, "long.mp4", end_s="0.8").status_code == 202
    assert post(app.test_client(), clip, "long.mp4", frame_stride="2").status_code == 202


def test_a_screenshot_a_frame_over_the_screenshot_limit_is_a_413(tmp_path: Path) -> None:
    app = limited_app(tmp_path, max_screenshots=50)
    clip = clip_bytes(tmp_path, frames=100)  # 4 s
    response = post(app.test_client(), clip, "c.mp4", screenshot_interval_s="0.0001")
    assert response.status_code == 413
    assert response.get_json()["error"] == (
        "'c.mp4': screenshot_interval_s = 0.0001 s gives 100 screenshots over 4.0 s of video, over the limit "
        "of 50 (MAX_SCREENSHOTS); use an interval of at least 0.082 s")
    assert post(app.test_client(), clip, "c.mp4", screenshot_interval_s="0.082").status_code == 202


def test_the_upload_form_shows_the_limit_message(tmp_path: Path) -> None:
    app = limited_app(tmp_path, max_frames=2)
    client = app.test_client()
    client.get("/")
    response = client.post("/", data={"csrf_token": csrf_of(client),
                                      "video": (io.BytesIO(clip_bytes(tmp_path)), "three.mp4")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and "3 frames to process exceeds the limit of 2 (MAX_FRAMES)" in page


@pytest.mark.parametrize("start_s", ["1e18", "1e308"])
def test_a_huge_start_is_a_clear_422_not_an_internal_error(app: Flask, store: JobStore, settings: Settings,
                                                           tmp_path: Path, start_s: str) -> None:
    response = post(app.test_client(), clip_bytes(tmp_path), "c.mp4", start_s=start_s)
    assert response.status_code == 422
    assert response.get_json()["error"] == (
        f"'c.mp4': no frames in the requested range ({float(start_s):g} s to the end; the video is 0.1 s long)")
    assert nothing_kept(settings, store)
    assert post(app.test_client(), clip_bytes(tmp_path), "c.mp4", end_s="1e308").status_code == 202


def test_a_1000_fps_clip_is_described_as_1000_fps(app: Flask, store: JobStore, tmp_path: Path) -> None:
    response = post(app.test_client(), clip_bytes(tmp_path, frames=20, fps=1000), "fast.mp4")
    assert response.status_code == 202
    meta = store.get(response.get_json()["id"]).source_meta
    assert (meta["fps"], meta["fps_guessed"], meta["frame_count"]) == (1000.0, False, 20)
    page = app.test_client().get(f"/jobs/{response.get_json()['id']}").get_data(as_text=True)
    assert "1000.00 fps" in page


def test_a_2_mb_body_that_is_not_multipart_is_told_the_1_mib_limit(app: Flask) -> None:
    body = b"net_height=" + b"1" * (2 * 1024**2)
    for path in ("/api/jobs", "/"):
        response = app.test_client().post(path, data=body, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 413
        text = response.get_json()["error"] if path.startswith("/api") else response.get_data(as_text=True)
        assert "1 MiB" in text and "8 MB" not in text  # the upload limit of this app is 8 MB


def test_a_form_field_over_1_mib_in_a_multipart_upload_is_told_that_limit(app: Flask) -> None:
    response = app.test_client().post("/api/jobs", data={"net_height": "1" * (2 * 1024**2)},
                                      content_type="multipart/form-data")
    assert response.status_code == 413
    assert response.get_json()["error"].startswith("A form field may hold at most 1 MiB")

"""Image jobs through the API: real COCO photos uploaded as ``image`` fields or a ZIP, run by the
real task body with the real model (in this process, no broker), outputs served and checked
against the OpenAPI document; and every bad input: a 4xx or a warning naming the file, no
traceback, nothing left behind."""
from __future__ import annotations

import csv
import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from jobs.paths import upload_images_dir
from test_web_openapi import Contract
from web_helpers import app_and_task

PHOTOS = ("000000000785.jpg", "000000000790.jpg", "000000030752.jpg")  # 1, 4 and 1+ people
J, ONE = "/api/jobs", "/api/jobs/{job_id}"


@pytest.fixture
def env(tmp_path: Path, model_path: Path):
    yield app_and_task(tmp_path, max_upload_bytes=16 * 1024**2, model_path=model_path)


@pytest.fixture(scope="module")
def photos(shared_data: Path) -> dict[str, bytes]:
    return {name: (shared_data / "coco" / "images" / name).read_bytes() for name in PHOTOS}


def _files(items: list[tuple[str, bytes]]) -> list[tuple[io.BytesIO, str]]:
    return [(io.BytesIO(data), name) for name, data in items]


def png_declaring(width: int, height: int) -> bytes:
    """A 100-byte PNG whose header declares ``width`` x ``height`` (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def _uploads_left(settings) -> list[Path]:
    return [p for p in Path(settings.uploads_dir).rglob("*") if p.is_file()]


@pytest.mark.model
def test_three_photos_and_a_bad_one_become_one_job_with_every_output(env, photos) -> None:
    app, settings, store, task = env
    client = app.test_client()
    c = Contract(client.get("/api/openapi.json").get_json())
    rotated = Image.open(io.BytesIO(photos[PHOTOS[1]]))
    exif = rotated.getexif()
    exif[0x0112] = 6  # "rotate 90 clockwise to view": the upright photo is portrait
    turned = io.BytesIO()
    rotated.save(turned, "JPEG", exif=exif, quality=92)
    items = [(PHOTOS[0], photos[PHOTOS[0]]), ("notes.jpg", b"just text, not a photo"),
             ("upright.jpg", turned.getvalue()), (PHOTOS[2], photos[PHOTOS[2]])]
    created = c.check(client.post(J, data={"image": _files(items), "net_height": "256"}), J, "post", 202)
    queued = c.check(client.get(created["api_url"]), ONE, "get", 200)
    assert queued["kind"] == "images" and queued["options"]["quality"] == "accurate"  # the photos' default
    job = store.get(created["id"])
    assert [p["name"] for p in job.source_meta["images"]] == [PHOTOS[0], "upright.jpg", PHOTOS[2]]
    assert job.source_meta["images"][1]["width"] == 422 and job.source_meta["images"][1]["height"] == 640
    assert any("notes.jpg" in w and "not an image" in w for w in job.source_meta["warnings"])

    assert task(job.id) == "succeeded"
    body = c.check(client.get(created["api_url"]), ONE, "get", 200)
    assert body["state"] == "succeeded" and body["summary"]["images"] == 3 and body["summary"]["people"] >= 3
    assert any("notes.jpg" in w for w in body["warnings"])
    images = body["outputs"]["images"]
    assert len(images) == 3 and all(images)
    shown = [cv2.imdecode(np.frombuffer(client.get(u).data, np.uint8), cv2.IMREAD_COLOR) for u in images]
    assert shown[1].shape[:2] == (640, 422)  # EXIF orientation honoured: upright
    doc = json.loads(client.get(body["outputs"]["keypoints_json"]).data)
    assert [r["file_name"] for r in doc["images"]] == [PHOTOS[0], "upright.jpg", PHOTOS[2]]
    assert all(r["people"] >= 1 for r in doc["images"])
    upright = [a for a in doc["annotations"] if a["image_id"] == "upright.jpg"]
    xs, ys = np.array(upright[0]["keypoints"][0::3]), np.array(upright[0]["keypoints"][1::3])
    assert xs.max() < 422 and ys.max() < 640  # coordinates of the upright photo
    assert all(len(a["keypoints"]) == 51 and "angles" in a for a in doc["annotations"])
    rows = list(csv.DictReader(io.StringIO(client.get(body["outputs"]["csv"]).get_data(as_text=True))))
    assert {r["image"] for r in rows} == {PHOTOS[0], "upright.jpg", PHOTOS[2]}
    angles = list(csv.DictReader(io.StringIO(client.get(body["outputs"]["angles_csv"]).get_data(as_text=True))))
    assert angles and set(angles[0]) == {"image", "person", "angle", "degrees"}
    with zipfile.ZipFile(io.BytesIO(client.get(body["outputs"]["openpose_zip"]).data)) as openpose:
        assert len(openpose.namelist()) == 3
    with zipfile.ZipFile(io.BytesIO(client.get(body["outputs"]["zip"]).data)) as everything:
        assert {"keypoints.json", "keypoints.csv", "angles.csv", "openpose_json.zip"} <= set(everything.namelist())
        assert sum(n.startswith("images/") for n in everything.namelist()) == 3
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert 'id="photo-gallery"' in page and "tracking, smoothing and the video options" in page


@pytest.mark.model
def test_a_zip_is_one_job_and_its_bad_entries_are_named(env, photos) -> None:
    app, settings, store, task = env
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("shoot/" + PHOTOS[0], photos[PHOTOS[0]])
        zf.writestr("../escape.jpg", photos[PHOTOS[0]])
        zf.writestr("/abs.jpg", photos[PHOTOS[0]])
        zf.writestr("inner.zip", b"PK\x05\x06" + b"\0" * 18)
        zf.writestr("readme.txt", "hello")
        zf.writestr("bomb.bmp", b"\0" * (12 * 1024**2), compress_type=zipfile.ZIP_DEFLATED)
    client = app.test_client()
    response = client.post(J, data={"archive": (io.BytesIO(archive.getvalue()), "shoot.zip"), "quality": "fast"})
    assert response.status_code == 202, response.get_json()
    job = store.get(response.get_json()["id"])
    assert job.source_name == "shoot.zip" and [p["name"] for p in job.source_meta["images"]] == [PHOTOS[0]]
    warnings = " | ".join(job.source_meta["warnings"])
    for name, why in (("../escape.jpg", "leaves the archive"), ("/abs.jpg", "leaves the archive"),
                      ("inner.zip", "nested archives are not opened"), ("readme.txt", "not an image"),
                      ("bomb.bmp", "ZIP bomb")):
        assert f"'{name}'" in warnings and why in warnings, (name, warnings)
    assert not (Path(settings.uploads_dir).parent / "escape.jpg").exists()
    assert task(job.id) == "succeeded"
    assert store.get(job.id).timings["images"] == 1


BAD = {
    "empty": ("empty.jpg", b"", "empty file"),
    "not an image": ("photo.png", b"%PDF-1.4 not a picture", "not an image"),
    "truncated": ("cut.jpg", None, "cut short"),
    "bomb": ("bomb.png", png_declaring(30000, 30000), "decompression bomb"),
    "over the pixel limit": ("big.png", png_declaring(9000, 9000), "MAX_IMAGE_PIXELS"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_lone_bad_photo_is_a_422_naming_it_and_nothing_is_kept(env, photos, case) -> None:
    app, settings, store, _task = env
    name, data, why = BAD[case]
    if data is None:
        data = photos[PHOTOS[0]][: len(photos[PHOTOS[0]]) // 2]
    response = app.test_client().post(J, data={"image": [(io.BytesIO(data), name)]})
    body = response.get_json()
    assert response.status_code == 422, body
    assert name in body["error"] and why in body["error"] and "Traceback" not in body["error"]
    assert store.list_jobs() == [] and _uploads_left(settings) == []


def test_odd_but_usable_photos_are_accepted(env, photos) -> None:
    """16-bit, CMYK, grayscale, alpha, WebP, BMP, TIFF, and an animated GIF (its first frame, with a warning)."""
    app, settings, store, _task = env
    photo = Image.open(io.BytesIO(photos[PHOTOS[0]]))
    made = {}
    for name, image, fmt in (("cmyk.tiff", photo.convert("CMYK"), "TIFF"), ("gray.png", photo.convert("L"), "PNG"),
                             ("alpha.png", photo.convert("RGBA"), "PNG"), ("a.webp", photo, "WEBP"),
                             ("a.bmp", photo, "BMP")):
        out = io.BytesIO()
        image.save(out, fmt)
        made[name] = out.getvalue()
    made["deep.png"] = cv2.imencode(".png", np.asarray(photo)[:, :, ::-1].astype(np.uint16) * 257)[1].tobytes()
    gif = io.BytesIO()
    frames = [photo.convert("P"), photo.rotate(180).convert("P")]
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    made["moving.gif"] = gif.getvalue()
    response = app.test_client().post(J, data={"image": _files(list(made.items()))})
    assert response.status_code == 202, response.get_json()
    job = store.get(response.get_json()["id"])
    assert [p["name"] for p in job.source_meta["images"]] == list(made)
    assert job.source_meta["warnings"] == ["moving.gif: an animated image of 2 frames; only the first is used"]


def test_too_many_photos_and_zip_refusals(env, photos) -> None:
    app, settings, store, _task = env
    tiny = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes()
    client = app.test_client()
    many = client.post(J, data={"image": [(io.BytesIO(tiny), f"{i}.png") for i in range(501)]})
    assert many.status_code == 413 and "MAX_IMAGES" in many.get_json()["error"]
    thousands = io.BytesIO()
    with zipfile.ZipFile(thousands, "w") as zf:
        for i in range(3000):
            zf.writestr(f"{i:04d}.png", tiny)
    refused = client.post(J, data={"archive": (io.BytesIO(thousands.getvalue()), "tiny.zip")})
    assert refused.status_code == 413 and "tiny.zip" in refused.get_json()["error"]
    none = io.BytesIO()
    with zipfile.ZipFile(none, "w") as zf:
        zf.writestr("notes.txt", "no photos here")
    empty = client.post(J, data={"archive": (io.BytesIO(none.getvalue()), "notes.zip")})
    assert empty.status_code == 422 and "no images in the archive" in empty.get_json()["error"]
    not_zip = client.post(J, data={"archive": (io.BytesIO(b"not a zip"), "fake.zip")})
    assert not_zip.status_code == 422 and "fake.zip: not a ZIP" in not_zip.get_json()["error"]
    both = client.post(J, data={"archive": (io.BytesIO(none.getvalue()), "a.zip"),
                                "image": [(io.BytesIO(tiny), "a.png")]})
    assert both.status_code == 400
    assert store.list_jobs() == [] and _uploads_left(settings) == []


def test_the_form_without_javascript_and_deleting_an_image_job(env, photos) -> None:
    """The upload page's plain form post: the photos become one job (redirect to it), its upload
    is kept until the owner deletes the job, and then nothing of it is left."""
    from web_helpers import csrf_of

    app, settings, store, _task = env
    browser = app.test_client()
    token = csrf_of(browser)
    response = browser.post("/", data={"csrf_token": token, "image": _files([(n, photos[n]) for n in PHOTOS])})
    assert response.status_code == 303 and "/jobs/" in response.headers["Location"]
    job = store.list_jobs()[0]
    assert job.kind == "images" and len(job.source_meta["images"]) == 3
    shown = browser.get(f"/api/jobs/{job.id}").get_json()
    assert shown["upload_kept"] is True and shown["options"]["quality"] == "accurate"
    assert browser.delete(f"/api/jobs/{job.id}", headers={"X-CSRF-Token": token}).status_code == 204
    assert not upload_images_dir(settings, job.id).exists() and _uploads_left(settings) == []

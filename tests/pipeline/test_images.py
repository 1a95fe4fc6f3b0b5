"""pipeline.images.process_images with the real model on real photos: outputs, per-photo
warnings for photos that only fail when decoded, a job with no readable photo, cancelling, and
keypoints_only; nothing half-written is ever left."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from config import ResourceLimits
from pose.errors import InvalidImageError
from pipeline.images import PhotoInput, process_images
from pipeline.video import PipelineCancelled, PipelineOptions, load_pipeline_backend

pytestmark = pytest.mark.model
SKIER = "000000000785.jpg"
SMALL = dict(net_height=192, quality="fast")


@pytest.fixture(scope="module")
def backend(model_path: Path):
    return load_pipeline_backend(PipelineOptions(), model_path)


@pytest.fixture
def inputs(shared_data: Path, tmp_path: Path) -> dict[str, Path]:
    photo = shared_data / "coco" / "images" / SKIER
    png = io.BytesIO()
    Image.open(photo).save(png, "PNG")
    cut = tmp_path / "cut.png"
    cut.write_bytes(png.getvalue()[: len(png.getvalue()) // 2])  # header fine, data cut short
    text = tmp_path / "text.jpg"
    text.write_text("not a photo")
    return {"good": photo, "cut": cut, "text": text}


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_photo_that_fails_when_decoded_is_a_warning_and_the_others_are_processed(backend, inputs, tmp_path) -> None:
    photos = [PhotoInput("skier.jpg", inputs["good"]), PhotoInput("cut.png", inputs["cut"])]
    result = process_images(photos, tmp_path / "out" / "job", PipelineOptions(**SMALL), backend=backend)
    assert result.people[0] >= 1 and result.people[1] is None
    assert len(result.warnings) == 1 and result.warnings[0].startswith("cut.png: cannot be decoded")
    assert result.annotated == ["images/0001_skier.jpg", None]
    doc = json.loads((tmp_path / "out" / "job" / "keypoints.json").read_text())
    assert doc["images"][1]["error"] == result.warnings[0] and doc["options"]["quality"] == "fast"
    assert {a["image_id"] for a in doc["annotations"]} == {"skier.jpg"}
    assert _leftovers(tmp_path / "out") == ["job"]


def test_no_readable_photo_fails_naming_each_and_leaves_nothing(backend, inputs, tmp_path) -> None:
    photos = [PhotoInput("cut.png", inputs["cut"]), PhotoInput("text.jpg", inputs["text"])]
    with pytest.raises(InvalidImageError, match="none of the images could be read: cut.png: .*; text.jpg: not an image"):
        process_images(photos, tmp_path / "out" / "job", PipelineOptions(**SMALL), backend=backend)
    assert _leftovers(tmp_path / "out") == []


def test_cancel_and_the_image_limit_leave_nothing(backend, inputs, tmp_path) -> None:
    photos = [PhotoInput(f"{i}.jpg", inputs["good"]) for i in range(3)]
    with pytest.raises(PipelineCancelled):
        process_images(photos, tmp_path / "out" / "job", PipelineOptions(**SMALL), backend=backend,
                       should_cancel=lambda: True)
    with pytest.raises(ValueError, match="3 images in one job, over the limit of 2 \\(MAX_IMAGES\\)"):
        process_images(photos, tmp_path / "out" / "job", PipelineOptions(**SMALL), backend=backend,
                       limits=ResourceLimits(max_images=2))
    assert _leftovers(tmp_path / "out") == []


def test_keypoints_only_keeps_no_picture(backend, inputs, tmp_path) -> None:
    result = process_images([PhotoInput("skier.jpg", inputs["good"])], tmp_path / "job",
                            PipelineOptions(keypoints_only=True, **SMALL), backend=backend)
    assert result.annotated == [None] and not (tmp_path / "job" / "images").exists()
    assert sorted(p.name for p in (tmp_path / "job").iterdir()) == [
        "angles.csv", "keypoints.csv", "keypoints.json", "openpose_json.zip"]


def test_blazepose_sees_each_photo_on_its_own(inputs, tmp_path) -> None:
    """BlazePose (a tracking model) in single-image mode: both copies of the photo get their
    person, with its 33 parts; no OpenPose JSON for its skeleton."""
    pytest.importorskip("mediapipe")
    options = PipelineOptions(model="blazepose")
    model = load_pipeline_backend(options)
    photos = [PhotoInput("a.jpg", inputs["good"]), PhotoInput("b.jpg", inputs["good"])]
    result = process_images(photos, tmp_path / "job", options, backend=model)
    assert result.people == [1, 1] and result.files == ["keypoints.json", "keypoints.csv", "angles.csv"]
    doc = json.loads((tmp_path / "job" / "keypoints.json").read_text())
    assert [len(a["parts"]) for a in doc["annotations"]] == [99, 99]
    assert doc["annotations"][0]["keypoints"] == doc["annotations"][1]["keypoints"]

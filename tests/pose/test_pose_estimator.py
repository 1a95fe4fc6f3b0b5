"""The real model on real COCO images: people are found where the ground truth has them, in
source-image pixels."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from pose import AssemblyParams, InvalidImageError, PoseEstimator, load_backend, read_image

MIN_GT_KEYPOINTS = 10
MIN_GT_HEIGHT = 100  # pixels: people big enough that a 368-high network must see them


@pytest.fixture(scope="module")
def estimator(model_path: Path) -> PoseEstimator:
    return PoseEstimator(load_backend("openvino", model_path))


@pytest.fixture(scope="module")
def coco(shared_data: Path) -> dict:
    return json.loads((shared_data / "coco" / "person_keypoints_dev.json").read_text())


def _clear_people(coco: dict) -> dict[int, list[dict]]:
    """image_id -> the annotated people with many labelled keypoints and a tall box."""
    by_image: dict[int, list[dict]] = {}
    for ann in coco["annotations"]:
        if ann["num_keypoints"] >= MIN_GT_KEYPOINTS and ann["bbox"][3] >= MIN_GT_HEIGHT and not ann["iscrowd"]:
            by_image.setdefault(ann["image_id"], []).append(ann)
    return by_image


def _matches(ann: dict, persons: list) -> bool:
    """Some detected person has its labelled keypoints within 10 % of the GT box height (median)."""
    gt = np.array(ann["keypoints"], np.float32).reshape(17, 3)
    labelled = gt[:, 2] > 0
    for person in persons:
        coco17 = person.to_coco17()
        both = labelled & (coco17[:, 2] > 0)
        if both.sum() >= 4:
            error = np.linalg.norm(coco17[both, :2] - gt[both, :2], axis=1)
            if np.median(error) < 0.1 * ann["bbox"][3]:
                return True
    return False


def test_finds_the_annotated_people_on_real_coco_images(estimator, coco, shared_data) -> None:
    files = {image["id"]: image["file_name"] for image in coco["images"]}
    clear = _clear_people(coco)
    image_ids = sorted(clear)[:12]  # 12 images keep the test short; bench/coco_eval.py scores all
    found = total = 0
    for image_id in image_ids:
        image = read_image(shared_data / "coco" / "images" / files[image_id])
        persons = estimator.estimate(image)
        scores = [p.score for p in persons]
        assert scores == sorted(scores, reverse=True)
        height, width = image.shape[:2]
        for person in persons:
            xy = person.keypoints[person.visible, :2]
            assert (xy >= -1).all() and (xy[:, 0] <= width).all() and (xy[:, 1] <= height).all()
        total += len(clear[image_id])
        found += sum(_matches(ann, persons) for ann in clear[image_id])
    assert total >= 15
    assert found >= 0.8 * total, f"matched {found} of {total} clearly visible annotated people"


def test_estimate_is_the_three_stages_and_scales_with_the_image(estimator, shared_data) -> None:
    image = read_image(shared_data / "coco" / "images" / "000000000785.jpg")  # one skier, 640x425
    persons = estimator.estimate(image)
    prepared = estimator.preprocess(image)
    staged = estimator.postprocess(estimator.infer(prepared), prepared)
    assert len(persons) == len(staged) >= 1
    for a, b in zip(persons, staged):
        np.testing.assert_array_equal(a.keypoints, b.keypoints)
    assert persons[0].num_parts >= 14
    # The same picture at 2x (same network input): keypoints land at 2x, give or take resampling.
    double = estimator.estimate(cv2.resize(image, (1280, 850), interpolation=cv2.INTER_CUBIC))
    both = persons[0].visible & double[0].visible
    offset = double[0].keypoints[both, :2] - (persons[0].keypoints[both, :2] * 2 + 0.5)
    assert np.median(np.abs(offset)) < 3.0


def test_grayscale_and_huge_images_work(estimator, shared_data) -> None:
    image = read_image(shared_data / "coco" / "images" / "000000000785.jpg")
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    assert len(estimator.estimate(gray)) >= 1
    huge = cv2.resize(image, (8000, 6000), interpolation=cv2.INTER_LINEAR)
    persons = estimator.estimate(huge)
    assert len(persons) >= 1 and persons[0].box[2] > 4000  # coordinates in the 8000-wide image


def test_tiny_image_and_bad_settings_are_refused(estimator) -> None:
    with pytest.raises(InvalidImageError, match="at least 8"):
        estimator.estimate(np.zeros((5, 5, 3), np.uint8))
    with pytest.raises(ValueError, match="multiple of 8"):
        PoseEstimator(estimator.backend, net_height=300)
    with pytest.raises(ValueError, match="upsample"):
        PoseEstimator(estimator.backend, upsample=0)


def test_a_blank_image_has_nobody_and_params_reach_the_assembly(estimator, shared_data) -> None:
    assert estimator.estimate(np.full((480, 640, 3), 127, np.uint8)) == []
    image = read_image(shared_data / "coco" / "images" / "000000000785.jpg")
    assert len(estimator.estimate(image)) >= 1
    impossible = PoseEstimator(estimator.backend, params=AssemblyParams(min_parts=19))
    assert impossible.estimate(image) == []

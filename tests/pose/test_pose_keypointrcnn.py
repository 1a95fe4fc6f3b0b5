"""Keypoint R-CNN (torchvision's keypointrcnn_resnet50_fpn) with random weights (``weights=None``;
torchvision's trained weights are not here): boxes and 17 COCO keypoints per person, weights
from a file checked whole, and bad files as one clear line. Skipped, saying why, where torch and
a torchvision built for it are not installed (the project's test environment has neither: the
CPU torch wheel it may get has no matching torchvision)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pose.errors import BackendUnavailableError, ModelLoadError
from pose.skeleton import COCO_17


def _torchvision():
    try:
        import torch
        import torchvision
    except (ImportError, RuntimeError) as exc:
        pytest.skip(f"torch and a matching torchvision are not installed here ({str(exc).splitlines()[0]})")
    return torch, torchvision


@pytest.fixture(scope="module")
def estimator():
    _torchvision()
    from pose.keypointrcnn import KeypointRcnnEstimator

    # Small inputs and few boxes keep it fast; random weights score every box, so none is dropped.
    return KeypointRcnnEstimator(None, box_score_threshold=0.0, min_size=160, max_size=256, max_detections=3)


def test_boxes_and_17_coco_keypoints_per_person_in_source_pixels(estimator) -> None:
    image = (np.random.default_rng(0).random((120, 200, 3)) * 255).astype(np.uint8)
    people = estimator.estimate(image)
    assert estimator.skeleton is COCO_17 and estimator.device == "cpu"
    assert 1 <= len(people) <= 3
    assert [p.score for p in people] == sorted((p.score for p in people), reverse=True)
    for person in people:
        assert person.keypoints.shape == (17, 3) and person.keypoints.dtype == np.float32
        assert (person.keypoints[:, 2] > 0).all() and (person.keypoints[:, 2] <= 1).all()
        assert (person.keypoints[:, 0] >= -1).all() and (person.keypoints[:, 0] <= 201).all()
        assert (person.keypoints[:, 1] >= -1).all() and (person.keypoints[:, 1] <= 121).all()
    assert people[0].to_coco17(COCO_17).tolist() == people[0].keypoints.tolist()


def test_weights_from_a_file_are_checked_whole(estimator, tmp_path: Path) -> None:
    torch, torchvision = _torchvision()
    from pose.keypointrcnn import KeypointRcnnEstimator

    path = tmp_path / "keypointrcnn_resnet50_fpn_coco-test.pth"
    torch.save(estimator._model.state_dict(), path)  # noqa: SLF001 - the random weights, as a user's file
    loaded = KeypointRcnnEstimator(path, box_score_threshold=0.0, min_size=160, max_size=256, max_detections=3)
    image = (np.random.default_rng(1).random((120, 200, 3)) * 255).astype(np.uint8)
    same = [p.keypoints for p in loaded.estimate(image)]
    assert len(same) and all(np.allclose(a, b.keypoints, atol=1e-3) for a, b in zip(same, estimator.estimate(image)))
    # A .pth of another network, a file that is no .pth, a missing one: one line each.
    other = tmp_path / "resnet18.pth"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), other)
    text = tmp_path / "notes.pth"
    text.write_text("not weights\n")
    for bad, words in ((other, "not keypointrcnn_resnet50_fpn's weights"), (text, "not a PyTorch weights file"),
                       (tmp_path / "missing.pth", "not found")):
        with pytest.raises(ModelLoadError) as exc:
            KeypointRcnnEstimator(bad)
        assert words in str(exc.value) and "\n" not in str(exc.value), bad.name
    with pytest.raises(BackendUnavailableError if not torch.cuda.is_available() else ValueError):
        KeypointRcnnEstimator(None, device="gpu:7" if not torch.cuda.is_available() else "tpu")

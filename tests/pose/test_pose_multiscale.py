"""Quality presets (pose.multiscale): the mirror's channel mapping on hand-made maps, the
averaging's alignment, and the real model on a real COCO photo."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pose import PoseEstimator, load_backend, read_image
from pose.assembly import NUM_CHANNELS
from pose.multiscale import (FLIP_SIGN, FLIP_SOURCE, QUALITY_PRESETS, Augmentation, MultiScaleEstimator,
                             average_outputs, quality_augmentation, scaled_height, unflip_output)
from pose.skeleton import LIMB_PAF_CHANNELS, LIMBS, PART_NAMES

PHOTO = "000000000785.jpg"  # a skier, whole body
PAF = NUM_CHANNELS - 2 * len(LIMBS)  # first PAF channel (19)


def _part(name: str) -> int:
    return PART_NAMES.index(name)


def _paf_x(limb: tuple[int, int]) -> int:
    return PAF + LIMB_PAF_CHANNELS[LIMBS.index(limb)][0]


def test_mirror_mapping_swaps_sides_and_is_its_own_inverse() -> None:
    assert np.array_equal(FLIP_SOURCE[FLIP_SOURCE], np.arange(NUM_CHANNELS))
    assert FLIP_SOURCE[_part("left_shoulder")] == _part("right_shoulder")
    assert FLIP_SOURCE[_part("nose")] == _part("nose") and FLIP_SOURCE[18] == 18  # background stays
    # neck -> right shoulder's PAF x comes from neck -> left shoulder's, negated
    assert FLIP_SOURCE[_paf_x((1, 2))] == _paf_x((1, 5)) and FLIP_SIGN[_paf_x((1, 2))] == -1
    assert FLIP_SIGN[_paf_x((1, 2)) + 1] == 1  # y keeps its sign
    raw = np.random.default_rng(0).random((6, 10, NUM_CHANNELS), dtype=np.float32)
    assert np.array_equal(unflip_output(unflip_output(raw)), raw)


def test_unflip_moves_a_left_peak_to_the_right_part_at_the_mirrored_cell() -> None:
    raw = np.zeros((5, 8, NUM_CHANNELS), np.float32)
    raw[2, 1, _part("left_wrist")] = 0.9
    raw[3, 6, _paf_x((6, 7))] = 0.7  # left elbow -> left wrist points right in the mirrored image
    back = unflip_output(raw)
    assert back[2, 6, _part("right_wrist")] == pytest.approx(0.9)
    assert back[:, :, _part("left_wrist")].max() == 0
    assert back[3, 1, _paf_x((3, 4))] == pytest.approx(-0.7)  # right elbow -> wrist points left


def test_average_outputs_aligns_maps_of_different_sizes() -> None:
    small = np.full((4, 6, NUM_CHANNELS), 0.2, np.float32)
    large = np.full((8, 12, NUM_CHANNELS), 0.6, np.float32)
    averaged = average_outputs([small, large], (12, 8))
    assert averaged.shape == (8, 12, NUM_CHANNELS)
    assert np.allclose(averaged, 0.4, atol=1e-5)


def test_presets_and_bad_values() -> None:
    assert QUALITY_PRESETS["balanced"] == Augmentation(scales=(1.0,))
    accurate = quality_augmentation("accurate")
    assert accurate.flip and accurate.passes == 2 * len(accurate.scales) and accurate.relative_cost > 8
    assert scaled_height(368, 1.5) == 552 and scaled_height(368, 0.75) % 8 == 0
    with pytest.raises(ValueError, match="quality must be one of fast, balanced, accurate"):
        quality_augmentation("best")
    with pytest.raises(ValueError, match="scales"):
        Augmentation(scales=())


@pytest.fixture(scope="module")
def backend(model_path: Path):
    return load_backend("openvino", model_path)


@pytest.fixture(scope="module")
def photo(shared_data: Path) -> np.ndarray:
    return read_image(shared_data / "coco" / "images" / PHOTO)


def test_flip_averaging_is_symmetric_on_a_real_photo(backend, photo) -> None:
    """Flip averaging sees an image and its mirror alike: the people of the mirrored photo are
    the photo's people mirrored, left and right swapped (within a pixel)."""
    estimator = MultiScaleEstimator(backend, Augmentation(scales=(1.0,), flip=True))
    people = estimator.estimate(photo)
    mirrored = estimator.estimate(np.ascontiguousarray(photo[:, ::-1]))
    assert len(people) >= 1 and len(mirrored) == len(people)
    width = photo.shape[1]
    for a, b in zip(people, mirrored):
        back = b.keypoints[FLIP_SOURCE[:18]]
        assert np.array_equal(a.visible, back[:, 2] > 0)
        seen = a.visible
        assert np.allclose(a.keypoints[seen, 0], width - 1 - back[seen, 0], atol=1.0)
        assert np.allclose(a.keypoints[seen, 1], back[seen, 1], atol=1.0)


def test_accurate_finds_the_skier_where_balanced_does(backend, photo) -> None:
    balanced = PoseEstimator(backend).estimate(photo)
    estimator = MultiScaleEstimator(backend, QUALITY_PRESETS["accurate"])
    prepared = estimator.preprocess(photo)
    assert len(prepared.tensors) == 4 and prepared.tensors[-1].shape[1] == 552
    raw = estimator.infer(prepared)
    assert raw.shape == (552 // 8, prepared.tensors[-1].shape[2] // 8, NUM_CHANNELS)
    accurate = estimator.postprocess(raw, prepared)
    assert len(accurate) >= 1 and len(balanced) >= 1
    best, reference = accurate[0], balanced[0]
    both = best.visible & reference.visible
    assert both.sum() >= 10
    # the same person, in the photo's pixels: parts within 5% of the photo's height
    distance = np.linalg.norm(best.keypoints[both, :2] - reference.keypoints[both, :2], axis=1)
    assert np.median(distance) < 0.05 * photo.shape[0]
    assert (best.keypoints[best.visible, 0] < photo.shape[1]).all()

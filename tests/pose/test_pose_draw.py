"""SkeletonAnnotator: fixed limb colours, labels in the person's colour, skeleton-only on black."""
from __future__ import annotations

import numpy as np
import pytest

from pose import Person, SkeletonAnnotator
from pose.draw import LIMB_COLORS, PART_COLORS, RENDER_LIMBS


def _person(points: dict[int, tuple[float, float]], score: float = 1.0) -> Person:
    keypoints = np.zeros((18, 3), np.float32)
    for part, (x, y) in points.items():
        keypoints[part] = (x, y, 0.9)
    return Person(keypoints=keypoints, score=score)


# neck, right shoulder, right elbow far apart so limb midpoints are clear of the joints
ARM = _person({1: (100, 100), 2: (100, 200), 3: (200, 200)})


def test_limbs_and_joints_use_the_fixed_colours_on_a_copy() -> None:
    image = np.full((300, 300, 3), 255, np.uint8)
    out = SkeletonAnnotator(thickness=3, radius=5).annotate(image, [ARM])
    assert out is not image and (image == 255).all()
    neck_shoulder = LIMB_COLORS[RENDER_LIMBS.index((1, 2))]
    shoulder_elbow = LIMB_COLORS[RENDER_LIMBS.index((2, 3))]
    assert tuple(out[150, 100]) == neck_shoulder  # midpoint of neck -> right shoulder
    assert tuple(out[200, 150]) == shoulder_elbow  # midpoint of right shoulder -> elbow
    assert tuple(out[100, 100]) == PART_COLORS[1]  # the neck joint
    assert tuple(out[50, 250]) == (255, 255, 255)  # untouched far away


@pytest.mark.parametrize("given, expected", [((0, 200, 255), (0, 200, 255)), (None, (160, 160, 160))])
def test_color_by_person_draws_the_whole_skeleton_in_its_colour(given, expected) -> None:
    image = np.full((300, 300, 3), 255, np.uint8)
    out = SkeletonAnnotator(thickness=3, radius=5, color_by="person").annotate(image, [ARM], colors=[given])
    assert tuple(out[150, 100]) == expected  # limb midpoints
    assert tuple(out[200, 150]) == expected
    assert tuple(out[100, 100]) == expected  # joint centre (its ring is black)
    with pytest.raises(ValueError, match="color_by"):
        SkeletonAnnotator(color_by="track")


def test_skeleton_only_draws_on_black() -> None:
    image = np.full((300, 300, 3), 200, np.uint8)
    out = SkeletonAnnotator(thickness=3).annotate(image, [ARM], skeleton_only=True)
    assert tuple(out[50, 250]) == (0, 0, 0) and out.any()


def test_a_label_gets_a_box_in_the_person_colour() -> None:
    image = np.zeros((300, 300, 3), np.uint8)
    color = (0, 200, 255)
    out = SkeletonAnnotator(thickness=2).annotate(image, [ARM], labels=["7"], colors=[color])
    label_area = out[:100, 90:160]  # above the person's box, which starts at (100, 100)
    assert (label_area == color).all(axis=2).sum() > 100
    unlabelled = SkeletonAnnotator(thickness=2).annotate(image, [ARM], labels=[None], colors=[color])
    assert not (unlabelled[:90] == color).all(axis=2).any()


def test_sizes_scale_with_the_image_and_bad_arguments_are_refused() -> None:
    annotator = SkeletonAnnotator()
    assert annotator._sizes(480, 640)[0] == 2 and annotator._sizes(2160, 3840)[0] == 7
    small = annotator.annotate(np.zeros((300, 300, 3), np.uint8), [ARM])
    big = annotator.annotate(np.zeros((3000, 3000, 3), np.uint8),
                             [_person({1: (1000, 1000), 2: (1000, 2000), 3: (2000, 2000)})])
    assert (big > 0).any(axis=2).sum() > 20 * (small > 0).any(axis=2).sum()  # 10x longer and thicker
    with pytest.raises(ValueError, match="labels has 2 entries for 1 persons"):
        annotator.annotate(np.zeros((50, 50, 3), np.uint8), [ARM], labels=["a", "b"])
    with pytest.raises(ValueError, match="thickness"):
        SkeletonAnnotator(thickness=0)


def test_grayscale_input_and_nobody() -> None:
    out = SkeletonAnnotator().annotate(np.zeros((40, 60), np.uint8), [])
    assert out.shape == (40, 60, 3) and not out.any()

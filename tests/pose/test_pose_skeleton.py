"""Skeletons as data: each model's description drives people, COCO views, drawing and boxes."""
from __future__ import annotations

import numpy as np
import pytest

from pose import BLAZEPOSE_33, OPENPOSE_18, Person, SkeletonAnnotator
from pose.boxes import proportions_for, whole_person_box
from pose.skeleton import COCO17_FROM_OPENPOSE, COCO17_NAMES


@pytest.mark.parametrize("skeleton", [OPENPOSE_18, BLAZEPOSE_33], ids=lambda s: s.name)
def test_every_skeleton_maps_all_17_coco_keypoints_by_name(skeleton) -> None:
    assert len(skeleton.coco17) == 17 and None not in skeleton.coco17
    assert [skeleton.part_names[i] for i in skeleton.coco17] == list(COCO17_NAMES)
    assert len(set(skeleton.part_names)) == skeleton.num_parts
    assert len(skeleton.marker_names) == skeleton.num_parts


def test_openpose_keeps_its_coco_mapping_and_blazepose_has_33_parts_with_world() -> None:
    assert OPENPOSE_18.coco17 == COCO17_FROM_OPENPOSE and not OPENPOSE_18.has_world
    assert OPENPOSE_18.openpose_json and not BLAZEPOSE_33.openpose_json
    assert BLAZEPOSE_33.num_parts == 33 and BLAZEPOSE_33.has_world
    assert BLAZEPOSE_33.part_names[29:] == ("left_heel", "right_heel", "left_foot_index", "right_foot_index")
    assert BLAZEPOSE_33.marker_names[32] == "RFootIndex"


def test_person_takes_any_number_of_parts_and_world_of_the_same_shape() -> None:
    kp = np.zeros((33, 3), np.float32)
    kp[[0, 11], 2] = 0.9
    person = Person(keypoints=kp, score=1.0, world=np.zeros((33, 3), np.float32))
    assert person.num_parts == 2 and person.world.shape == (33, 3)
    assert person.to_coco17(BLAZEPOSE_33)[5, 2] == pytest.approx(0.9)  # left shoulder is COCO 5
    with pytest.raises(ValueError, match="world"):
        Person(keypoints=kp, score=1.0, world=np.zeros((18, 3), np.float32))
    with pytest.raises(ValueError, match="shape"):
        Person(keypoints=np.zeros((33, 2), np.float32), score=1.0)
    with pytest.raises(ValueError, match=r"18 parts, got keypoints of shape \(33, 3\)"):
        OPENPOSE_18.to_coco17(kp)


def standing_blazepose(feet_y: float = 400.0, height: float = 200.0, centre_x: float = 300.0) -> np.ndarray:
    """A BlazePose person whose parts sit at the body model's fractions (arms at hip level)."""
    names = BLAZEPOSE_33.part_names
    fractions = np.array(proportions_for(BLAZEPOSE_33).fractions)
    fractions[np.isnan(fractions)] = 0.5
    side = np.array([-1 if n.startswith("right_") else 1 if n.startswith("left_") else 0 for n in names])
    kp = np.zeros((33, 3), np.float32)
    kp[:, 0] = centre_x + side * 0.13 * height * (fractions > 0.7) + side * 0.095 * height * (fractions <= 0.7)
    kp[:, 1] = feet_y - fractions * height
    kp[:, 2] = 0.9
    return kp


def test_blazepose_box_is_fitted_from_its_part_names() -> None:
    x1, y1, x2, y2 = whole_person_box(standing_blazepose(), skeleton=BLAZEPOSE_33)
    assert y2 == pytest.approx(400.0, abs=3) and y1 == pytest.approx(200.0, abs=3)
    assert x2 - x1 >= 0.26 * 200 - 1
    with pytest.raises(ValueError, match=r"\(33, 3\)"):
        whole_person_box(standing_blazepose(), skeleton=OPENPOSE_18)


def test_blazepose_is_drawn_with_its_own_limbs_and_side_colours() -> None:
    kp = np.zeros((33, 3), np.float32)
    names = BLAZEPOSE_33.part_names
    for name, xy in {"left_ankle": (100, 100), "left_heel": (100, 200), "right_ankle": (200, 100),
                     "right_heel": (200, 200)}.items():
        kp[names.index(name)] = (*xy, 0.9)
    out = SkeletonAnnotator(thickness=3, radius=5, skeleton=BLAZEPOSE_33).annotate(
        np.full((300, 300, 3), 255, np.uint8), [Person(keypoints=kp, score=1.0)])
    left = BLAZEPOSE_33.limb_colors[BLAZEPOSE_33.limbs.index((27, 29))]
    right = BLAZEPOSE_33.limb_colors[BLAZEPOSE_33.limbs.index((28, 30))]
    assert left != right
    assert tuple(out[150, 100]) == left and tuple(out[150, 200]) == right  # ankle -> heel midpoints
    with pytest.raises(ValueError, match="18 parts"):
        SkeletonAnnotator(skeleton=BLAZEPOSE_33).annotate(np.zeros((50, 50, 3), np.uint8),
                                                         [Person(keypoints=np.ones((18, 3), np.float32), score=1.0)])

"""Whole-person boxes: a body built from the model's own proportions must give back its box."""
from __future__ import annotations

import numpy as np
import pytest

from pose.boxes import DEFAULT_PROPORTIONS, whole_person_box

FEET_Y, HEIGHT, CENTRE_X = 400.0, 200.0, 300.0


def standing_person(parts: list[int] | None = None) -> np.ndarray:
    """A standing person whose parts sit exactly at the model's fractions; arms hang at hip level."""
    kp = np.zeros((18, 3), np.float32)
    fractions = np.array(DEFAULT_PROPORTIONS.fractions)
    fractions[[3, 6]] = 0.63  # elbows
    fractions[[4, 7]] = 0.48  # wrists
    # half-breadths at the model's width cues: shoulders 0.26 h, hips 0.19 h, ears 0.09 h, eyes 0.036 h
    half = np.array([0, 0, 26, 26, 30, 26, 26, 30, 19, 19, 19, 19, 19, 19, 3.6, 3.6, 9, 9])
    side = np.array([0, 0, -1, -1, -1, 1, 1, 1, -1, -1, -1, 1, 1, 1, -1, 1, -1, 1]) * half
    kp[:, 0] = CENTRE_X + side
    kp[:, 1] = FEET_Y - fractions * HEIGHT
    kp[:, 2] = 0.8
    if parts is not None:
        mask = np.zeros(18, bool)
        mask[parts] = True
        kp[~mask] = 0
    return kp


def test_full_body_spans_head_top_to_feet() -> None:
    x1, y1, x2, y2 = whole_person_box(standing_person())
    assert y1 == pytest.approx(FEET_Y - HEIGHT, abs=0.5)
    assert y2 == pytest.approx(FEET_Y, abs=0.5)
    assert x2 - x1 >= DEFAULT_PROPORTIONS.min_width_ratio * HEIGHT - 1e-6
    assert (x1 + x2) / 2 == pytest.approx(CENTRE_X, abs=0.5)


@pytest.mark.parametrize("parts", [
    [0, 1, 2, 5, 8, 11],  # upper body to the hips: legs hidden behind something
    [8, 9, 10, 11, 12, 13],  # legs only: head out of frame
    [0, 14, 15, 16, 17, 2, 5],  # head and shoulders: height from the shoulder breadth
])
def test_partial_body_is_extended_to_the_whole_body(parts: list[int]) -> None:
    x1, y1, x2, y2 = whole_person_box(standing_person(parts))
    kp = standing_person(parts)
    tight_height = np.ptp(kp[kp[:, 2] > 0, 1])
    assert y2 - y1 > 1.5 * tight_height
    if parts[0] != 0 or len(parts) == 6:  # vertical fit possible: exact
        assert (y1, y2) == pytest.approx((FEET_Y - HEIGHT, FEET_Y), abs=1.0)
    else:  # width cue (median of shoulder, ear and eye breadths): roughly right
        assert 0.6 * HEIGHT < y2 - y1 < 1.4 * HEIGHT


def test_box_contains_every_visible_keypoint_even_with_raised_arms() -> None:
    kp = standing_person()
    kp[4] = (CENTRE_X - 90, FEET_Y - 1.3 * HEIGHT, 0.7)  # right wrist far above the head
    x1, y1, x2, y2 = whole_person_box(kp)
    vis = kp[kp[:, 2] > 0]
    assert x1 <= vis[:, 0].min() and x2 >= vis[:, 0].max()
    assert y1 <= vis[:, 1].min() and y2 >= vis[:, 1].max()


def test_clipped_to_the_image_when_its_size_is_given() -> None:
    x1, y1, x2, y2 = whole_person_box(standing_person(), image_size=(320, 390))
    assert x1 >= 0 and y1 >= 0 and x2 <= 319 and y2 <= 389


def test_single_part_gives_a_degenerate_box_and_no_part_raises() -> None:
    assert whole_person_box(standing_person([0])) == pytest.approx((CENTRE_X, FEET_Y - 0.91 * HEIGHT) * 2)
    with pytest.raises(ValueError, match="no visible keypoints"):
        whole_person_box(np.zeros((18, 3), np.float32))

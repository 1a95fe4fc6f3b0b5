"""The torso colour histogram: regions, normalisation, and distances that tell colours apart."""
from __future__ import annotations

import numpy as np
import pytest

from tracking import InvalidDetectionsError
from tracking.appearance import color_histogram, histogram_distance, torso_box

SHOULDERS, HIPS = (2, 5), (8, 11)  # OpenPose 18-part rows


def person(shoulder_y: float = 100.0, hip_y: float = 160.0, x: float = 200.0) -> np.ndarray:
    keypoints = np.zeros((18, 3))
    keypoints[2], keypoints[5] = [x - 20, shoulder_y, 0.9], [x + 20, shoulder_y, 0.9]
    keypoints[8], keypoints[11] = [x - 15, hip_y, 0.8], [x + 15, hip_y, 0.8]
    return keypoints


def test_torso_box_lies_between_shoulders_and_hips_and_needs_both() -> None:
    region = torso_box(person(), SHOULDERS, HIPS, shrink=0.0)
    np.testing.assert_allclose(region, [180, 100, 220, 160])
    shrunk = torso_box(person(), SHOULDERS, HIPS)
    assert shrunk[0] > 180 and shrunk[1] > 100 and shrunk[2] < 220 and shrunk[3] < 160
    side_view = person()
    side_view[[5, 11], 2] = 0  # one shoulder and one hip: still a box, widened to half its height
    region = torso_box(side_view, SHOULDERS, HIPS, shrink=0.0)
    assert region[2] - region[0] == pytest.approx(30.0)
    no_hips = person()
    no_hips[[8, 11], 2] = 0
    assert torso_box(no_hips, SHOULDERS, HIPS) is None


def test_histograms_sum_to_one_and_tell_colours_apart() -> None:
    image = np.zeros((300, 400, 3), dtype=np.uint8)
    image[:, :200] = (0, 0, 200)  # red (BGR) on the left
    image[:, 200:] = (200, 60, 0)  # blue on the right
    red = color_histogram(image, np.array([20, 20, 180, 280]))
    red_again = color_histogram(image, np.array([50, 100, 150, 200]))
    blue = color_histogram(image, np.array([220, 20, 380, 280]))
    assert red.shape == (128,) and red.sum() == pytest.approx(1.0)
    assert histogram_distance(red, red_again)[0, 0] == pytest.approx(0.0, abs=1e-7)
    assert histogram_distance(red, blue)[0, 0] == pytest.approx(1.0)
    half = color_histogram(image, np.array([100, 20, 300, 280]))
    assert 0.2 < histogram_distance(red, half)[0, 0] < 0.8
    assert histogram_distance(np.stack([red, blue]), np.stack([red, blue, half])).shape == (2, 3)


def test_dark_pixels_differ_by_brightness_not_by_noisy_hue() -> None:
    image = np.zeros((100, 200, 3), dtype=np.uint8)
    image[:, :100] = (10, 5, 20)  # almost black, reddish
    image[:, 100:] = (20, 5, 10)  # almost black, bluish
    a = color_histogram(image, np.array([0, 0, 100, 100]))
    b = color_histogram(image, np.array([100, 0, 200, 100]))
    assert histogram_distance(a, b)[0, 0] == pytest.approx(0.0, abs=1e-7)


def test_regions_outside_the_image_and_bad_images() -> None:
    image = np.zeros((50, 50, 3), dtype=np.uint8)
    assert color_histogram(image, np.array([60, 60, 90, 90])) is None
    assert color_histogram(image, np.array([-10, -10, 2, 2])) is None  # 4 pixels: too few
    assert color_histogram(image, np.array([-10, -10, 20, 20])).sum() == pytest.approx(1.0)
    with pytest.raises(InvalidDetectionsError, match="uint8"):
        color_histogram(image.astype(np.float32), np.array([0, 0, 10, 10]))
    with pytest.raises(InvalidDetectionsError, match="differ in length"):
        histogram_distance(np.ones(4) / 4, np.ones(8) / 8)

"""pose.input_size.auto_net_height: the input grows only as far as small people need."""
from __future__ import annotations

import pytest

from pose.input_size import (BASE_NET_HEIGHT, DETECTION, MAX_AUTO_NET_HEIGHT, MAX_PRECISE_NET_HEIGHT, PRECISION,
                              auto_net_height)


def test_people_tall_enough_at_the_base_height_keep_it() -> None:
    # 1080p, people 400 px tall: 136 px at 368, well over 64.
    assert auto_net_height([400, 380, 420], 1080) == BASE_NET_HEIGHT
    # Exactly the minimum: no change.
    assert auto_net_height([64], BASE_NET_HEIGHT) == BASE_NET_HEIGHT


def test_small_people_raise_it_to_make_them_the_minimum_rounded_up_to_16() -> None:
    # 576-high frames, median 77 px (PETS09): 49.2 px at 368 -> 368 * 64 / 49.2 = 478.7 -> 480.
    assert auto_net_height([70, 77, 90], 576) == 480
    assert auto_net_height([100], 576, min_person_px=100 * 368 / 576 + 1) % 16 == 0


def test_tiny_people_stop_at_the_maximum() -> None:
    assert auto_net_height([20, 25], 1080) == MAX_AUTO_NET_HEIGHT
    assert auto_net_height([20], 1080, max_height=656) == 656


def test_the_median_decides_not_one_outlier() -> None:
    # One small far-away bystander among large people does not enlarge the input.
    assert auto_net_height([30, 400, 410, 420], 1080) == BASE_NET_HEIGHT


@pytest.mark.parametrize("heights", [[], [0.0], [-5.0]])
def test_nobody_found_keeps_the_base(heights: list[float]) -> None:
    assert auto_net_height(heights, 720) == BASE_NET_HEIGHT


@pytest.mark.parametrize(("image_height", "kwargs"), [(0, {}), (720, {"base_height": 600, "max_height": 512})])
def test_bad_arguments_raise(image_height: int, kwargs: dict) -> None:
    with pytest.raises(ValueError):
        auto_net_height([100], image_height, **kwargs)


def test_the_precision_goal_makes_the_person_20_cells_tall_up_to_656() -> None:
    # A person 700 of 1,920 px (134 px at 368): detection keeps 368, precision wants
    # 368 * 160 / 134.2 = 439 -> 448.
    assert DETECTION.net_height([700], 1920) == BASE_NET_HEIGHT
    assert PRECISION.net_height([700], 1920) == 448
    # 400 of 1,920 (77 px at 368): 368 * 160 / 76.7 = 768 -> 656.
    assert PRECISION.net_height([400], 1920) == MAX_PRECISE_NET_HEIGHT
    # 1,300 of 1,920 (249 px at 368) is already over 20 cells tall at 368.
    assert PRECISION.net_height([1300], 1920) == BASE_NET_HEIGHT
    assert PRECISION.net_height([], 1080) == BASE_NET_HEIGHT


def test_the_precision_goal_never_enlarges_past_the_source() -> None:
    # 480-high frames: at most 480, whatever the people's size; never below the base.
    assert PRECISION.net_height([100], 480) == 480
    assert PRECISION.net_height([50], 240) == BASE_NET_HEIGHT
    assert DETECTION.net_height([20], 480) == MAX_AUTO_NET_HEIGHT  # detection may enlarge

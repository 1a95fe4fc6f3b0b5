"""pose.input_size.auto_net_height: the input grows only as far as small people need."""
from __future__ import annotations

import pytest

from pose.input_size import BASE_NET_HEIGHT, MAX_AUTO_NET_HEIGHT, auto_net_height


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

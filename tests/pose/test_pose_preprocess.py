"""Image conversion, network input size and the network-to-source coordinate mapping."""
from __future__ import annotations

import numpy as np
import pytest

from pose import InvalidImageError, network_input_size, prepare_input, to_bgr8


@pytest.mark.parametrize(
    ("image", "expected_pixel"),
    [
        (np.full((4, 5), 7, np.uint8), (7, 7, 7)),  # grayscale
        (np.full((4, 5, 1), 7, np.uint8), (7, 7, 7)),  # grayscale with a channel axis
        (np.dstack([np.full((4, 5), v, np.uint8) for v in (1, 2, 3, 200)]), (1, 2, 3)),  # BGRA: alpha dropped
        (np.full((4, 5, 3), 65535, np.uint16), (255, 255, 255)),  # 16-bit scaled to 8-bit
        (np.full((4, 5, 3), 257 * 100, np.uint16), (100, 100, 100)),
        (np.full((4, 5, 3), 0.5, np.float32), (128, 128, 128)),  # float 0..1
    ],
)
def test_to_bgr8_converts_common_layouts(image, expected_pixel) -> None:
    out = to_bgr8(image)
    assert out.dtype == np.uint8 and out.shape == (4, 5, 3) and out.flags.c_contiguous
    assert tuple(out[2, 3]) == expected_pixel


def test_to_bgr8_keeps_bgr8_as_is_and_refuses_the_rest() -> None:
    image = np.zeros((4, 5, 3), np.uint8)
    assert to_bgr8(image) is image
    for bad in (np.zeros((4, 5, 2), np.uint8), np.zeros((2, 4, 5, 3), np.uint8), np.zeros((4, 5, 3), np.int32),
                np.zeros((0, 5, 3), np.uint8)):
        with pytest.raises(InvalidImageError):
            to_bgr8(bad)


@pytest.mark.parametrize(
    ("image_size", "kwargs", "expected"),
    [
        ((640, 480), {}, (496, 368)),  # 368 * 4/3 = 490.7 -> nearest multiple of 16
        ((480, 640), {}, (272, 368)),
        ((1920, 1080), {}, (656, 368)),
        ((8000, 6000), {}, (496, 368)),
        ((10000, 50), {}, (1472, 368)),  # clamped at 4x the height
        ((50, 10000), {}, (96, 368)),  # clamped at a quarter of the height
        ((640, 480), {"net_width": 432}, (432, 368)),
        ((640, 480), {"net_height": 256}, (336, 256)),
    ],
)
def test_network_input_size(image_size, kwargs, expected) -> None:
    assert network_input_size(*image_size, **kwargs) == expected


def test_network_input_size_refuses_sizes_off_the_stride() -> None:
    with pytest.raises(ValueError, match="multiple of 8"):
        network_input_size(640, 480, net_height=370)
    with pytest.raises(ValueError, match="multiple of 8"):
        network_input_size(640, 480, net_width=430)


def test_prepare_input_tensor_and_scale() -> None:
    image = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    prepared = prepare_input(image)
    assert prepared.tensor.shape == (1, 368, 496, 3) and prepared.tensor.dtype == np.float32
    assert prepared.network_size == (496, 368) and prepared.source_size == (640, 480)
    assert prepared.scale_x == pytest.approx(640 / 496) and prepared.scale_y == pytest.approx(480 / 368)
    assert 0 <= prepared.tensor.min() and prepared.tensor.max() <= 255  # BGR 0..255, no mean subtraction


def test_pixel_centre_mapping() -> None:
    """Halving a 16x16 image: network pixel 0 covers source pixels 0 and 1, centre 0.5."""
    prepared = prepare_input(np.zeros((16, 16, 3), np.uint8), net_height=8, net_width=8)
    mapped = prepared.to_source(np.array([[0.0, 0.0], [7.0, 3.5], [-0.5, -0.5]]))
    np.testing.assert_allclose(mapped, [[0.5, 0.5], [14.5, 7.5], [-0.5, -0.5]])


def test_an_image_smaller_than_the_stride_is_refused_and_a_huge_one_is_resized() -> None:
    with pytest.raises(InvalidImageError, match="at least 8"):
        prepare_input(np.zeros((7, 100, 3), np.uint8))
    huge = prepare_input(np.zeros((6000, 8000, 3), np.uint8))
    assert huge.tensor.shape == (1, 368, 496, 3) and huge.source_size == (8000, 6000)

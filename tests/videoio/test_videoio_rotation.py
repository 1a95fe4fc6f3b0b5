"""Rotation conventions: clockwise display angle from PyAV's counter-clockwise frame angle."""
from __future__ import annotations

import numpy as np
import pytest

from videoio.rotation import apply_rotation, normalize_rotation, rotation_from_frame, rotation_from_metadata


@pytest.mark.parametrize(("degrees", "expected"), [(0, 0), (90, 90), (-90, 270), (180, 180), (-180, 180), (450, 90), (89.6, 90)])
def test_normalize_rotation(degrees: float, expected: int) -> None:
    assert normalize_rotation(degrees) == expected


def test_frame_angle_is_counter_clockwise_and_metadata_clockwise() -> None:
    assert rotation_from_frame(-90) == 90  # what PyAV reports for a rotate=90 phone video
    assert rotation_from_frame(90) == 270
    assert rotation_from_frame(None) == 0
    assert rotation_from_metadata({"rotate": "90"}) == 90
    assert rotation_from_metadata({"rotate": "sideways"}) == 0
    assert rotation_from_metadata({}) == 0


def test_apply_rotation_turns_clockwise() -> None:
    image = np.arange(6, dtype=np.uint8).reshape(2, 3, 1)  # [[0 1 2], [3 4 5]]
    turned = apply_rotation(image, 90)
    assert turned[:, :, 0].tolist() == [[3, 0], [4, 1], [5, 2]]
    assert turned.flags["C_CONTIGUOUS"]
    assert apply_rotation(image, 180)[:, :, 0].tolist() == [[5, 4, 3], [2, 1, 0]]
    assert apply_rotation(image, 270)[:, :, 0].tolist() == [[2, 5], [1, 4], [0, 3]]
    with pytest.raises(ValueError, match="0, 90, 180 or 270"):
        apply_rotation(image, 45)

"""Choosing the network input height from the size of the people in a video.

The graph sees a person through cells of 8 input pixels (its stride). A standing person 49 px
tall at the network input (PETS09's walkers at the default height 368) spans six cells: forearms
and shins are a cell or two long, so their Part Affinity Fields are barely sampled and many
people are never assembled. A larger input makes every person larger, at a cost that grows with
the input's area. :func:`auto_net_height` enlarges the input only as far as the people need:

    height = base_height * min_person_px / median person height at base_height,

rounded up to a multiple of ``step`` and kept within ``[base_height, max_height]``. People that
are already large enough (close-ups, phone videos, most sports footage) keep ``base_height``
and its speed; a video with no people found keeps it too.

Heights are whole-person box heights (head top to feet, :func:`pose.boxes.whole_person_box`)
in source pixels; ``image_height`` is the source frame's height in pixels.
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

#: The height the graph was trained and tuned at, and the pipeline's default.
BASE_NET_HEIGHT = 368
#: A person should be at least this tall at the network input: 8 cells of the graph's stride.
MIN_PERSON_PX = 64
#: The largest height "auto" goes to: 1.9x the inference time of 368 (bench/infer.py).
MAX_AUTO_NET_HEIGHT = 512
#: Chosen heights are multiples of this (the width then follows the aspect ratio).
HEIGHT_STEP = 16


def auto_net_height(
    person_heights: Iterable[float],
    image_height: int,
    *,
    base_height: int = BASE_NET_HEIGHT,
    min_person_px: float = MIN_PERSON_PX,
    max_height: int = MAX_AUTO_NET_HEIGHT,
    step: int = HEIGHT_STEP,
) -> int:
    """The network input height for people of ``person_heights`` (source px) in frames
    ``image_height`` px high. Raises ValueError for a non-positive ``image_height`` or bounds
    out of order."""
    if image_height <= 0:
        raise ValueError(f"image_height must be positive, got {image_height}")
    if not 0 < base_height <= max_height:
        raise ValueError(f"need 0 < base_height <= max_height, got {base_height} and {max_height}")
    heights = np.asarray([h for h in person_heights if h > 0], dtype=np.float64)
    if heights.size == 0:
        return base_height
    at_base = float(np.median(heights)) * base_height / image_height
    if at_base >= min_person_px:
        return base_height
    wanted = base_height * min_person_px / at_base
    return int(min(max_height, max(base_height, step * math.ceil(wanted / step))))

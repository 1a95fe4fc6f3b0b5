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

What "large enough" means depends on what the keypoints are for (:class:`SizeGoal`):

- :data:`DETECTION` (one video, the 2D pipeline's default): 64 px (8 cells), enough for the
  graph to find and assemble a person; up to 512.
- :data:`PRECISION` (the views of a multi-view job, triangulated): 160 px (20 cells), so that a
  part is placed to a small fraction of the person whatever the camera's distance (a forearm,
  0.146 of a person's height, spans 3 cells); up to 656, and never taller than the source
  frame (past that the network sees no pixel it has not seen). Larger is not better for this
  graph: on Pose2Sim's demo (docs/multiview.md) the subject at 16 cells (368) left a forearm's
  length varying by 8.3% over the clip, at 20 to 26 cells (448 to 576) every limb by 7.5% or
  less, at 29 cells (656) an upper arm's by 8.1%.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
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
#: For triangulation: the person should be this tall at the network input (20 cells).
PRECISE_PERSON_PX = 160
#: The largest height the precision goal goes to (see docs/multiview.md for what it buys).
MAX_PRECISE_NET_HEIGHT = 656


@dataclass(frozen=True)
class SizeGoal:
    """What net_height "auto" aims at. name: "detection" or "precision"; min_person_px: the
    median person's height at the network input (px); max_height: the largest input height;
    beyond_source: whether the input may be taller than the source frame (its height rounded up
    to a multiple of 16: a 1080-high view may get 1088)."""

    name: str
    min_person_px: float
    max_height: int
    beyond_source: bool = True

    def net_height(self, person_heights: Iterable[float], image_height: int) -> int:
        """:func:`auto_net_height` for this goal (source px in, network input height out)."""
        top = self.max_height
        if not self.beyond_source:
            top = min(top, max(BASE_NET_HEIGHT, HEIGHT_STEP * math.ceil(image_height / HEIGHT_STEP)))
        return auto_net_height(person_heights, image_height, min_person_px=self.min_person_px, max_height=top)

    def to_dict(self) -> dict:
        return {"goal": self.name, "min_person_px": self.min_person_px, "max_net_height": self.max_height}


DETECTION = SizeGoal("detection", MIN_PERSON_PX, MAX_AUTO_NET_HEIGHT)
PRECISION = SizeGoal("precision", PRECISE_PERSON_PX, MAX_PRECISE_NET_HEIGHT, beyond_source=False)


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

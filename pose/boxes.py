"""Whole-person boxes from keypoints, by body proportions.

Tracking benchmarks (MOTChallenge) annotate the whole body, head top to feet, even where parts
are hidden. A box around only the detected keypoints is about 0.82x that height and 0.58x its
width, so it fails IoU matches. Here the visible parts are fitted to a standing body model:
each part sits at a standard fraction of body height above the feet (Drillis & Contini), so
two or more parts at different heights give the feet position and the body height, and the box
extends from the feet to the head top.

Coordinates are source-image pixels (x right, y down). Boxes are (x1, y1, x2, y2) floats.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from pose.skeleton import OPENPOSE_18, Skeleton

_NAN = float("nan")
# Height above the feet as a fraction of body height, by part name; a part not named here (arms:
# they move too freely to say anything about body height) is not used for the vertical fit.
STANDING_FRACTIONS: dict[str, float] = {
    "nose": 0.91, "neck": 0.83, "mouth_left": 0.89, "mouth_right": 0.89,
    "left_eye": 0.94, "right_eye": 0.94, "left_eye_inner": 0.94, "right_eye_inner": 0.94,
    "left_eye_outer": 0.94, "right_eye_outer": 0.94, "left_ear": 0.93, "right_ear": 0.93,
    "left_shoulder": 0.82, "right_shoulder": 0.82, "left_hip": 0.53, "right_hip": 0.53,
    "left_knee": 0.29, "right_knee": 0.29, "left_ankle": 0.04, "right_ankle": 0.04,
    "left_heel": 0.01, "right_heel": 0.01, "left_foot_index": 0.01, "right_foot_index": 0.01,
    "left_big_toe": 0.01, "right_big_toe": 0.01,
}

# Horizontal distances between symmetric parts as a fraction of body height, used to estimate
# the height when the visible parts span too little of the body to fit it vertically.
WIDTH_CUES: tuple[tuple[str, str, float], ...] = (
    ("right_shoulder", "left_shoulder", 0.26),  # shoulder breadth
    ("right_hip", "left_hip", 0.19),  # hip breadth
    ("right_ear", "left_ear", 0.09),  # ear to ear
    ("right_eye", "left_eye", 0.036),  # eye to eye
)


@dataclass(frozen=True)
class BodyProportions:
    """The body model used by :func:`whole_person_box`.

    fractions: height above the feet / body height for each of the skeleton's parts (NaN = unused).
    width_cues: (part a, part b, distance / body height) index triples.
    min_fraction_span: the visible parts' fractions must span at least this much for the
        vertical least-squares fit; below it the height comes from width cues.
    min_width_ratio: box width is at least this fraction of the body height.
    side_padding_ratio: padding added to each side of the keypoints' horizontal extent, as a
        fraction of body height (keypoints are joint centres; the body is wider).
    """

    fractions: tuple[float, ...]
    min_fraction_span: float = 0.25
    min_width_ratio: float = 0.26
    side_padding_ratio: float = 0.05
    width_cues: tuple[tuple[int, int, float], ...] = field(default=())


@lru_cache(maxsize=None)
def proportions_for(skeleton: Skeleton) -> BodyProportions:
    """The body model for ``skeleton``, from its part names (:data:`STANDING_FRACTIONS`,
    :data:`WIDTH_CUES`): any skeleton with the usual names gets the same fit."""
    names = skeleton.part_names
    return BodyProportions(
        fractions=tuple(STANDING_FRACTIONS.get(n, _NAN) for n in names),
        width_cues=tuple((names.index(a), names.index(b), ratio) for a, b, ratio in WIDTH_CUES
                         if a in names and b in names))


DEFAULT_PROPORTIONS = proportions_for(OPENPOSE_18)


def whole_person_box(
    keypoints: np.ndarray,
    *,
    image_size: tuple[int, int] | None = None,
    skeleton: Skeleton = OPENPOSE_18,
    proportions: BodyProportions | None = None,
) -> tuple[float, float, float, float]:
    """Whole-body box (x1, y1, x2, y2) in pixels for one person.

    keypoints: (K, 3) array in ``skeleton``'s part order (default OpenPose-18), columns x, y,
        confidence (0 = missing).
    image_size: (width, height); when given the box is clipped to the image.
    proportions: the body model (default :func:`proportions_for` the skeleton).
    The box always contains every visible keypoint. Raises ValueError when no part is visible.
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    if keypoints.shape != (skeleton.num_parts, 3):
        raise ValueError(f"keypoints must have shape ({skeleton.num_parts}, 3) for {skeleton.name}, "
                         f"got {keypoints.shape}")
    proportions = proportions or proportions_for(skeleton)
    visible = keypoints[:, 2] > 0
    if not visible.any():
        raise ValueError("cannot make a box for a person with no visible keypoints")
    points = keypoints[visible, :2]
    x_min, y_min = points.min(axis=0)
    x_max, y_max = points.max(axis=0)

    fit = _fit_height(keypoints, visible, proportions)
    if fit is None:  # one part, or parts that say nothing about scale
        x1, y1, x2, y2 = x_min, y_min, x_max, y_max
    else:
        feet_y, height = fit
        pad = proportions.side_padding_ratio * height
        centre = (x_min + x_max) / 2.0
        half_width = max((x_max - x_min) / 2.0 + pad, proportions.min_width_ratio * height / 2.0)
        x1, x2 = min(centre - half_width, x_min), max(centre + half_width, x_max)
        y1, y2 = min(feet_y - height, y_min), max(feet_y, y_max)
    if image_size is not None:
        width, img_height = image_size
        x1, x2 = np.clip([x1, x2], 0, width - 1)
        y1, y2 = np.clip([y1, y2], 0, img_height - 1)
    return float(x1), float(y1), float(x2), float(y2)


def _fit_height(
    keypoints: np.ndarray, visible: np.ndarray, proportions: BodyProportions
) -> tuple[float, float] | None:
    """(feet y, body height) in pixels, or None when the visible parts cannot give a scale."""
    fractions = np.asarray(proportions.fractions, dtype=np.float64)
    usable = visible & ~np.isnan(fractions)
    f = fractions[usable]
    y = keypoints[usable, 1]
    height = None
    if f.size >= 2 and np.ptp(f) >= proportions.min_fraction_span:
        # y = feet_y - f * height: least squares in (feet_y, height).
        design = np.stack([np.ones_like(f), -f], axis=1)
        (_, fitted_height), *_ = np.linalg.lstsq(design, y, rcond=None)
        if fitted_height > 0:
            height = float(fitted_height)
    if height is None:
        height = _height_from_widths(keypoints, visible, proportions)
        if f.size >= 2 and np.ptp(f) > 0.05:
            vertical = (y.max() - y.min()) / np.ptp(f)
            height = max(height or 0.0, float(vertical)) or None
    if height is None or height <= 0:
        return None
    if f.size == 0:
        # Only arms visible: assume they hang beside the body's middle.
        feet_y = float(keypoints[visible, 1].mean()) + 0.5 * height
    else:
        feet_y = float(np.mean(y + f * height))
    return feet_y, height


def _height_from_widths(
    keypoints: np.ndarray, visible: np.ndarray, proportions: BodyProportions
) -> float | None:
    estimates = [
        abs(keypoints[a, 0] - keypoints[b, 0]) / ratio
        for a, b, ratio in proportions.width_cues
        if visible[a] and visible[b]
    ]
    if not estimates:
        return None
    best = float(np.median(estimates))  # median: one foreshortened or misplaced pair can't dominate
    return best if best > 0 else None

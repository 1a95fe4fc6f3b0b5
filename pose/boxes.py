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

import numpy as np

from pose.skeleton import NUM_PARTS

# Height above the feet as a fraction of body height, per OpenPose part; NaN = not used for the
# vertical fit (arms move too freely to say anything about body height).
_STANDING_FRACTIONS: tuple[float, ...] = (
    0.91,  # nose
    0.83,  # neck (midpoint of the shoulders)
    0.82, float("nan"), float("nan"),  # right shoulder, elbow, wrist
    0.82, float("nan"), float("nan"),  # left shoulder, elbow, wrist
    0.53, 0.29, 0.04,  # right hip, knee, ankle
    0.53, 0.29, 0.04,  # left hip, knee, ankle
    0.94, 0.94,  # eyes
    0.93, 0.93,  # ears
)

# Horizontal distances between symmetric parts as a fraction of body height, used to estimate
# the height when the visible parts span too little of the body to fit it vertically.
_WIDTH_CUES: tuple[tuple[int, int, float], ...] = (
    (2, 5, 0.26),  # shoulder breadth
    (8, 11, 0.19),  # hip breadth
    (16, 17, 0.09),  # ear to ear
    (14, 15, 0.036),  # eye to eye
)


@dataclass(frozen=True)
class BodyProportions:
    """The body model used by :func:`whole_person_box`.

    fractions: height above the feet / body height for each of the 18 parts (NaN = unused).
    min_fraction_span: the visible parts' fractions must span at least this much for the
        vertical least-squares fit; below it the height comes from width cues.
    min_width_ratio: box width is at least this fraction of the body height.
    side_padding_ratio: padding added to each side of the keypoints' horizontal extent, as a
        fraction of body height (keypoints are joint centres; the body is wider).
    """

    fractions: tuple[float, ...] = _STANDING_FRACTIONS
    min_fraction_span: float = 0.25
    min_width_ratio: float = 0.26
    side_padding_ratio: float = 0.05
    width_cues: tuple[tuple[int, int, float], ...] = field(default=_WIDTH_CUES)


DEFAULT_PROPORTIONS = BodyProportions()


def whole_person_box(
    keypoints: np.ndarray,
    *,
    image_size: tuple[int, int] | None = None,
    proportions: BodyProportions = DEFAULT_PROPORTIONS,
) -> tuple[float, float, float, float]:
    """Whole-body box (x1, y1, x2, y2) in pixels for one person.

    keypoints: (18, 3) array in OpenPose part order, columns x, y, confidence (0 = missing).
    image_size: (width, height); when given the box is clipped to the image.
    The box always contains every visible keypoint. Raises ValueError when no part is visible.
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    if keypoints.shape != (NUM_PARTS, 3):
        raise ValueError(f"keypoints must have shape (18, 3), got {keypoints.shape}")
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

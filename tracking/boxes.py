"""Box geometry shared by the tracker: validation, IoU and the Kalman measurement form.

Boxes are ``float64`` arrays of corners ``x1, y1, x2, y2`` in pixels (x right, y down),
with ``x2 >= x1`` and ``y2 >= y1``.
"""
from __future__ import annotations

import numpy as np

from tracking.errors import InvalidDetectionsError

#: Boxes thinner than this (pixels) are widened around their centre on input: IoU and the
#: Kalman filter's scale/aspect state are undefined for a zero-area box.
MIN_BOX_SIDE = 1.0


def as_boxes(boxes: object, *, name: str = "boxes") -> np.ndarray:
    """Validate ``boxes`` and return them as a float64 ``(N, 4)`` array (a copy).

    Accepts anything array-like of shape ``(N, 4)``, including an empty ``(0, 4)`` or a
    zero-length sequence. Raises :class:`InvalidDetectionsError` for another shape, for
    non-finite values, or for a box whose corners are inverted (``x2 < x1`` or ``y2 < y1``).
    Sides shorter than :data:`MIN_BOX_SIDE` are widened to it around their centre.
    """
    array = np.array(boxes, dtype=np.float64, copy=True)
    if array.size == 0:
        return np.empty((0, 4), dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 4:
        raise InvalidDetectionsError(
            f"{name} must have shape (N, 4) as x1, y1, x2, y2 pixels; got shape {array.shape}")
    bad = ~np.isfinite(array).all(axis=1)
    if bad.any():
        raise InvalidDetectionsError(f"{name} row {int(np.argmax(bad))} is not finite: {array[bad][0]}")
    inverted = (array[:, 2] < array[:, 0]) | (array[:, 3] < array[:, 1])
    if inverted.any():
        row = int(np.argmax(inverted))
        raise InvalidDetectionsError(
            f"{name} row {row} has x2 < x1 or y2 < y1 ({array[row]}); pass corners x1, y1, x2, y2, "
            "not x, y, w, h")
    for lo, hi in ((0, 2), (1, 3)):
        pad = np.clip(MIN_BOX_SIDE - (array[:, hi] - array[:, lo]), 0.0, None) / 2.0
        array[:, lo] -= pad
        array[:, hi] += pad
    return array


def iou_matrix(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in ``boxes_a`` ``(A, 4)`` with every box in
    ``boxes_b`` ``(B, 4)``; returns float64 ``(A, B)`` in ``[0, 1]`` (0 where both are empty)."""
    a = np.asarray(boxes_a, dtype=np.float64)[:, None, :]
    b = np.asarray(boxes_b, dtype=np.float64)[None, :, :]
    inter_w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0.0, None)
    inter_h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0.0, None)
    inter = inter_w * inter_h
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    union = area_a + area_b - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def box_to_measurement(box: np.ndarray) -> np.ndarray:
    """Corners ``(4,)`` -> SORT measurement ``(4, 1)``: centre x, centre y, area s, aspect r = w/h.

    Sides shorter than :data:`MIN_BOX_SIDE` count as that long (no division by zero)."""
    w = max(float(box[2] - box[0]), MIN_BOX_SIDE)
    h = max(float(box[3] - box[1]), MIN_BOX_SIDE)
    cx = float(box[0] + box[2]) / 2.0
    cy = float(box[1] + box[3]) / 2.0
    return np.array([[cx], [cy], [w * h], [w / h]], dtype=np.float64)


def state_to_box(state: np.ndarray) -> np.ndarray:
    """SORT state ``(>=4,)`` or ``(>=4, 1)`` (cx, cy, s, r, ...) -> corners ``(4,)``.

    A state whose area or aspect is not positive gives NaN corners; callers drop such tracks."""
    cx, cy, s, r = (float(v) for v in np.ravel(state)[:4])
    if not (s > 0 and r > 0):
        return np.full(4, np.nan)
    w = float(np.sqrt(s * r))
    h = s / w
    return np.array([cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0], dtype=np.float64)

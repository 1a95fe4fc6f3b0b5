"""Similarities between detections and tracks beyond box IoU: skeletons (OKS) and appearance.

Every function returns float64 ``(D, T)`` for ``D`` detections and ``T`` tracks, in ``[0, 1]``
(1 = the same), with NaN where the cue is unknown for a pair (no keypoints in common, no
histogram); :func:`blend` then falls back to the other cue for those pairs.
"""
from __future__ import annotations

import numpy as np

from tracking.appearance import histogram_distance

#: OKS falloff as a fraction of the object's scale (sqrt of its box area). COCO's per-joint
#: values (2 sigma) run from 0.05 (eyes) to 0.21 (hips) and judge a pose against the truth;
#: between two frames people also move, so the default is looser (on PETS09 people about 80 px
#: tall, 0.1 lost IDF1 and 0.3 to 0.5 gained a little: ``bench/track_replay.py``). One value
#: serves any skeleton.
DEFAULT_KEYPOINT_KAPPA = 0.3


def keypoint_similarity(det_keypoints: np.ndarray, trk_keypoints: np.ndarray, trk_boxes: np.ndarray,
                        *, kappa: float = DEFAULT_KEYPOINT_KAPPA) -> np.ndarray:
    """OKS-like similarity of detections' keypoints ``(D, K, 3)`` to tracks' ``(T, K, 3)``.

    Columns are x, y (pixels) and confidence (0 = missing). Per pair, the mean over the
    keypoints present in both of ``exp(-d^2 / (2 s^2 kappa^2))``, with ``d`` the distance in
    pixels and ``s^2`` the area of the track's box ``(T, 4)`` (x1, y1, x2, y2). NaN where the
    two share no keypoint.
    """
    det = np.asarray(det_keypoints, dtype=np.float64)
    trk = np.asarray(trk_keypoints, dtype=np.float64)
    boxes = np.asarray(trk_boxes, dtype=np.float64).reshape(-1, 4)
    area = np.clip((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), 1.0, None)
    both = (det[:, None, :, 2] > 0) & (trk[None, :, :, 2] > 0)  # (D, T, K)
    dist2 = ((det[:, None, :, :2] - trk[None, :, :, :2]) ** 2).sum(axis=-1)
    per_point = np.exp(-dist2 / (2.0 * area[None, :, None] * kappa ** 2))
    count = both.sum(axis=-1)
    total = np.where(both, per_point, 0.0).sum(axis=-1)
    return np.divide(total, count, out=np.full(count.shape, np.nan), where=count > 0)


def appearance_similarity(det_features: np.ndarray, trk_features: list[np.ndarray | None]) -> np.ndarray:
    """``1 - Hellinger distance`` between detections' histograms ``(D, B)`` (a row of NaN =
    unknown) and tracks' (``None`` = unknown); NaN where either is unknown."""
    det = np.asarray(det_features, dtype=np.float64)
    out = np.full((len(det), len(trk_features)), np.nan)
    det_known = np.isfinite(det).all(axis=1)
    cols = [j for j, f in enumerate(trk_features) if f is not None]
    if det_known.any() and cols:
        trk = np.stack([trk_features[j] for j in cols])
        out[np.ix_(det_known, cols)] = 1.0 - histogram_distance(det[det_known], trk)
    return out


def blend(base: np.ndarray, extra: np.ndarray, weight: float) -> np.ndarray:
    """``(1 - weight) * base + weight * extra``, and ``base`` alone where ``extra`` is NaN."""
    if weight == 0.0:
        return base
    return np.where(np.isnan(extra), base, (1.0 - weight) * base + weight * np.nan_to_num(extra))

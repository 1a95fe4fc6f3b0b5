"""Part Affinity Field scoring of candidate limbs and greedy one-to-one matching per limb.

All positions are in the pixel grid of the PAF maps given (pixel-centre convention): the caller
converts peak positions into that grid first.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class LimbMatches:
    """Connections kept for one limb type: index arrays into the two candidate lists.

    a, b: int64 (M,) indices into the part-A and part-B candidates; score: float32 (M,) the PAF
    score of each connection. Sorted by score descending.
    """

    a: np.ndarray
    b: np.ndarray
    score: np.ndarray


def sample_bilinear(field: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear samples of float32 (H, W, 2) ``field`` at float positions ``x``, ``y`` (same shape).

    Positions outside the map are clamped to its border. Returns float32 ``x.shape + (2,)``.
    """
    height, width = field.shape[:2]
    x = np.clip(x, 0.0, width - 1.0)
    y = np.clip(y, 0.0, height - 1.0)
    x0 = np.minimum(x.astype(np.int64), width - 2) if width > 1 else np.zeros(x.shape, np.int64)
    y0 = np.minimum(y.astype(np.int64), height - 2) if height > 1 else np.zeros(y.shape, np.int64)
    fx = (x - x0)[..., None].astype(np.float32)
    fy = (y - y0)[..., None].astype(np.float32)
    x1 = np.minimum(x0 + 1, width - 1)
    y1 = np.minimum(y0 + 1, height - 1)
    top = field[y0, x0] * (1 - fx) + field[y0, x1] * fx
    bottom = field[y1, x0] * (1 - fx) + field[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def score_limb(field: np.ndarray, ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray, *,
               num_samples: int = 10, sample_threshold: float = 0.05, min_fraction: float = 0.8,
               distance_prior: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """PAF line-integral scores of every (A, B) candidate pair of one limb type.

    field: float32 (H, W, 2) the limb's PAF (x, y components) in its own pixel grid.
    ax, ay: float (NA,) part-A positions; bx, by: float (NB,) part-B positions, in that grid.
    The score of a pair is the mean, over ``num_samples`` points evenly spaced from A to B
    (both ends included), of the dot product between the PAF and the unit vector A->B, plus the
    OpenPose distance prior ``min(0, distance_prior * H / length - 1)`` that penalises limbs
    longer than ``distance_prior`` times the map height.
    Returns (score float32 (NA, NB), valid bool (NA, NB)); a pair is valid when its score is
    > 0 and at least ``min_fraction`` of the samples exceed ``sample_threshold``.
    """
    dx = bx[None, :] - ax[:, None]
    dy = by[None, :] - ay[:, None]
    length = np.hypot(dx, dy)
    nonzero = length > 1e-6
    safe = np.where(nonzero, length, 1.0)
    ux, uy = dx / safe, dy / safe
    t = np.linspace(0.0, 1.0, num_samples, dtype=np.float32)
    px = ax[:, None, None] + dx[..., None] * t
    py = ay[:, None, None] + dy[..., None] * t
    vectors = sample_bilinear(field, px, py)
    dots = vectors[..., 0] * ux[..., None] + vectors[..., 1] * uy[..., None]
    prior = np.minimum(0.0, distance_prior * field.shape[0] / safe - 1.0)
    score = (dots.mean(axis=-1) + prior).astype(np.float32)
    enough = (dots > sample_threshold).sum(axis=-1) >= min_fraction * num_samples - 1e-9
    return score, nonzero & enough & (score > 0)


def match_greedy(score: np.ndarray, valid: np.ndarray) -> LimbMatches:
    """Greedy one-to-one matching: take valid pairs by descending score, each candidate once.

    Ties are broken by (A index, B index) so the result is deterministic.
    """
    ia, ib = np.nonzero(valid)
    values = score[ia, ib]
    order = np.lexsort((ib, ia, -values))
    used_a = np.zeros(score.shape[0], bool)
    used_b = np.zeros(score.shape[1], bool)
    keep: list[int] = []
    limit = min(score.shape)
    for k in order.tolist():
        a, b = ia[k], ib[k]
        if used_a[a] or used_b[b]:
            continue
        used_a[a] = used_b[b] = True
        keep.append(k)
        if len(keep) == limit:
            break
    kept = np.asarray(keep, dtype=np.int64)
    return LimbMatches(a=ia[kept].astype(np.int64), b=ib[kept].astype(np.int64),
                       score=values[kept].astype(np.float32))

"""Part Affinity Field scoring of candidate limbs and greedy one-to-one matching per limb.

Positions are in the pixel grid of the PAF maps (the network's output cells, pixel-centre
convention); the caller converts peak positions into that grid first. All candidate pairs of
all limb types are scored in one vectorised pass.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True, eq=False)
class Connections:
    """Limb connections (or candidates): parallel arrays of length M.

    limb: int64 limb type (index into pose.skeleton.LIMBS); a, b: int64 global peak indices of
    the limb's first and second part; score: float32 PAF score.
    """

    limb: np.ndarray
    a: np.ndarray
    b: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return int(self.limb.shape[0])


def candidate_pairs(offsets: np.ndarray, limbs: Sequence[tuple[int, int]]) -> Connections:
    """Every (A, B) pair of peaks for every limb type, with score 0.

    offsets: int (P + 1,) peaks of part p are the global indices offsets[p]:offsets[p + 1].
    Pairs come grouped by limb, then row-major over (A, B).
    """
    limb_ids, a_ids, b_ids = [], [], []
    for limb, (part_a, part_b) in enumerate(limbs):
        a = np.arange(offsets[part_a], offsets[part_a + 1], dtype=np.int64)
        b = np.arange(offsets[part_b], offsets[part_b + 1], dtype=np.int64)
        if len(a) == 0 or len(b) == 0:
            continue
        a_ids.append(np.repeat(a, len(b)))
        b_ids.append(np.tile(b, len(a)))
        limb_ids.append(np.full(len(a) * len(b), limb, np.int64))
    if not limb_ids:
        empty = np.zeros(0, np.int64)
        return Connections(limb=empty, a=empty, b=empty, score=np.zeros(0, np.float32))
    return Connections(limb=np.concatenate(limb_ids), a=np.concatenate(a_ids),
                       b=np.concatenate(b_ids), score=np.zeros(sum(map(len, limb_ids)), np.float32))


def sample_bilinear(maps: np.ndarray, x: np.ndarray, y: np.ndarray, channel: np.ndarray) -> np.ndarray:
    """Bilinear samples of float32 (H, W, C) ``maps`` at float ``x``, ``y`` in ``channel``.

    x, y and channel (int) broadcast together; positions outside the map are clamped to its
    border. Returns float32 of the broadcast shape.
    """
    height, width, channels = maps.shape
    flat = maps.reshape(-1)
    x = np.clip(x, 0.0, width - 1.0)
    y = np.clip(y, 0.0, height - 1.0)
    x0 = np.minimum(x.astype(np.int64), max(width - 2, 0))
    y0 = np.minimum(y.astype(np.int64), max(height - 2, 0))
    fx = (x - x0).astype(np.float32)
    fy = (y - y0).astype(np.float32)
    step_x = channels if width > 1 else 0
    step_y = width * channels if height > 1 else 0
    corner = (y0 * width + x0) * channels + channel
    top = flat.take(corner) * (1 - fx) + flat.take(corner + step_x) * fx
    bottom = flat.take(corner + step_y) * (1 - fx) + flat.take(corner + step_y + step_x) * fx
    return top * (1 - fy) + bottom * fy


def score_pairs(paf: np.ndarray, channels: np.ndarray, ax: np.ndarray, ay: np.ndarray,
                bx: np.ndarray, by: np.ndarray, *, num_samples: int = 10,
                sample_threshold: float = 0.05, min_fraction: float = 0.8,
                distance_prior: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """PAF line-integral scores of candidate limbs A->B.

    paf: float32 (H, W, C) maps holding the PAF components; channels: int (M, 2) the x and y
    channel of each candidate's limb type; ax, ay, bx, by: float (M,) end points in that grid.
    Score = mean over ``num_samples`` points evenly spaced from A to B (both ends included) of
    PAF . unit(A->B), plus OpenPose's distance prior ``min(0, distance_prior * H / length - 1)``
    that penalises limbs longer than ``distance_prior`` times the map height.
    Returns (score float32 (M,), valid bool (M,)); valid means length > 0, score > 0 and at
    least ``min_fraction`` of the samples above ``sample_threshold``.
    """
    dx, dy = bx - ax, by - ay
    length = np.hypot(dx, dy)
    nonzero = length > 1e-6
    safe = np.where(nonzero, length, 1.0)
    ux, uy = (dx / safe)[:, None], (dy / safe)[:, None]
    t = np.linspace(0.0, 1.0, num_samples, dtype=np.float32)
    px = ax[:, None] + dx[:, None] * t
    py = ay[:, None] + dy[:, None] * t
    vectors = sample_bilinear(paf, px[..., None], py[..., None], channels[:, None, :])
    dots = vectors[..., 0] * ux + vectors[..., 1] * uy
    prior = np.minimum(0.0, distance_prior * paf.shape[0] / safe - 1.0)
    score = (dots.mean(axis=1) + prior).astype(np.float32)
    agreeing = (dots > sample_threshold).sum(axis=1)
    valid = nonzero & (score > 0) & (agreeing >= min_fraction * num_samples - 1e-9)
    return score, valid


def match_greedy(candidates: Connections, valid: np.ndarray) -> Connections:
    """Greedy one-to-one matching per limb type: valid candidates by descending score, each peak
    used at most once per limb type. Result grouped by limb, by descending score within a limb;
    ties broken by (A, B) index, so it is deterministic.
    """
    limb, a, b, score = (candidates.limb[valid], candidates.a[valid], candidates.b[valid],
                         candidates.score[valid])
    order = np.lexsort((b, a, -score, limb))
    used_a: set[tuple[int, int]] = set()
    used_b: set[tuple[int, int]] = set()
    keep: list[int] = []
    for k, l, pa, pb in zip(order.tolist(), limb[order].tolist(), a[order].tolist(), b[order].tolist()):
        if (l, pa) in used_a or (l, pb) in used_b:
            continue
        used_a.add((l, pa))
        used_b.add((l, pb))
        keep.append(k)
    kept = np.asarray(keep, dtype=np.int64)
    return Connections(limb=limb[kept], a=a[kept], b=b[kept], score=score[kept])

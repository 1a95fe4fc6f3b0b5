"""Which 2D people in different views are the same person, frame by frame, by epipolar geometry.

For two views a and b and a person in each, the distance is the median, over the parts both
see, of the symmetric epipolar distance (undistorted pixels): how far each point lies from the
epipolar line of its counterpart (the median, because a detector swaps left and right limbs in
some views, and a swapped limb is far from its line). Pairs closer than ``max_epipolar_px`` are joined
into groups, closest first, so that a group has at most one person per view and the mean
distance between the members of two groups joined is within the threshold (average linkage:
one noisy view does not split a person, and two people standing on one epipolar line of a pair
of cameras are told apart by the other cameras).

A group seen by two views or more is then triangulated (:mod:`multiview.triangulation`), whose
reprojection error leaves out the views that do not agree point by point.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from multiview.camera import Camera


@dataclass(frozen=True)
class AssociationSettings:
    """max_epipolar_px: two people are the same when their parts lie this close to each other's
    epipolar lines on average (default 40 px at 1920 high); max_epipolar_two_views_px: a group
    of two views only has no third view to confirm it and must agree within this (15 px: two
    different people seen by two cameras agree within 40 px more often than one would think);
    min_common_parts: parts both must
    see to be compared (3); min_confidence: 2D parts below this are not used (0.1)."""

    max_epipolar_px: float = 40.0
    max_epipolar_two_views_px: float = 15.0
    min_common_parts: int = 3
    min_confidence: float = 0.1


def fundamental(a: Camera, b: Camera) -> np.ndarray:
    """F with ``x_b^T F x_a = 0`` for undistorted pixels of camera a and b ``(3, 3)``."""
    R = b.R @ a.R.T
    t = b.t - R @ a.t
    tx = np.array([[0, -t[2], t[1]], [t[2], 0, -t[0]], [-t[1], t[0], 0]])
    E = tx @ R
    return np.linalg.inv(b.K).T @ E @ np.linalg.inv(a.K)


def pair_distances(pa: np.ndarray, pb: np.ndarray, F: np.ndarray, settings: AssociationSettings) -> np.ndarray:
    """``(Pa, Pb)`` epipolar distances between the people ``pa`` ``(Pa, K, 3)`` and ``pb``
    ``(Pb, K, 3)`` (undistorted pixels and confidence); inf where too few parts are shared."""
    if len(pa) == 0 or len(pb) == 0:
        return np.full((len(pa), len(pb)), np.inf)
    ha = np.concatenate([pa[..., :2], np.ones(pa.shape[:2] + (1,))], axis=2)  # (Pa, K, 3)
    hb = np.concatenate([pb[..., :2], np.ones(pb.shape[:2] + (1,))], axis=2)
    lines_b = ha @ F.T  # epipolar lines in b of a's points (Pa, K, 3)
    lines_a = hb @ F    # in a of b's points (Pb, K, 3)
    num = np.abs(np.einsum("ikc,jkc->ijk", lines_b, hb))  # |x_b^T F x_a|
    da = num / np.maximum(np.hypot(lines_a[None, :, :, 0], lines_a[None, :, :, 1]), 1e-12)
    db = num / np.maximum(np.hypot(lines_b[:, None, :, 0], lines_b[:, None, :, 1]), 1e-12)
    ca, cb = pa[:, None, :, 2], pb[None, :, :, 2]
    both = (ca >= settings.min_confidence) & (cb >= settings.min_confidence)
    count = both.sum(axis=2)
    per_part = np.where(both, (da + db) / 2, np.inf)
    per_part.sort(axis=2)  # the seen parts first; their median:
    rows = np.arange(per_part.shape[0])[:, None]
    cols = np.arange(per_part.shape[1])[None, :]
    lo, hi = np.maximum(count - 1, 0) // 2, count // 2
    d = (per_part[rows, cols, lo] + per_part[rows, cols, hi]) / 2
    d[count < settings.min_common_parts] = np.inf
    return d


def group_people(cameras: Sequence[Camera], people: Sequence[np.ndarray],
                 settings: AssociationSettings = AssociationSettings(),
                 fundamentals: dict | None = None, distances: dict | None = None) -> list[dict[int, int]]:
    """Groups of one frame: each ``{view: person index}``, with two views or more, from
    ``people[v]`` ``(P_v, K, 3)`` **undistorted** pixels and confidence. ``distances``, when
    given, receives every pair's distance, keyed ``(view a, person, view b, person)``."""
    v_count = len(cameras)
    fundamentals = fundamentals if fundamentals is not None else fundamentals_of(cameras)
    distance: dict[tuple[int, int, int, int], float] = {}
    candidates = []
    for a in range(v_count):
        for b in range(a + 1, v_count):
            d = pair_distances(people[a], people[b], fundamentals[(a, b)], settings)
            for i, j in zip(*np.nonzero(np.isfinite(d))):
                distance[(a, int(i), b, int(j))] = distance[(b, int(j), a, int(i))] = float(d[i, j])
                if d[i, j] <= settings.max_epipolar_px:
                    candidates.append((float(d[i, j]), a, int(i), b, int(j)))
    if distances is not None:
        distances.update(distance)
    candidates.sort()
    group_of: dict[tuple[int, int], int] = {}
    groups: list[dict[int, int]] = []
    for _, a, i, b, j in candidates:
        ga, gb = group_of.get((a, i)), group_of.get((b, j))
        if ga is not None and ga == gb:
            continue
        first = groups[ga] if ga is not None else {a: i}
        second = groups[gb] if gb is not None else {b: j}
        if set(first) & set(second):
            continue  # one person per view
        cross = [distance[(va, ia, vb, ib)] for va, ia in first.items() for vb, ib in second.items()
                 if (va, ia, vb, ib) in distance]
        if np.mean(cross) > settings.max_epipolar_px:
            continue
        merged = {**first, **second}
        index = ga if ga is not None else (gb if gb is not None else len(groups))
        if index == len(groups):
            groups.append(merged)
        else:
            groups[index] = merged
        other = gb if index == ga else ga
        if other is not None and other != index:
            groups[other] = {}
        for view, person in merged.items():
            group_of[(view, person)] = index
    def agreed(group: dict[int, int]) -> bool:
        if len(group) >= 3:
            return True
        (va, ia), (vb, ib) = group.items()
        return distance.get((va, ia, vb, ib), np.inf) <= settings.max_epipolar_two_views_px

    return [g for g in groups if len(g) >= 2 and agreed(g)]


def fundamentals_of(cameras: Sequence[Camera]) -> dict[tuple[int, int], np.ndarray]:
    return {(a, b): fundamental(cameras[a], cameras[b])
            for a in range(len(cameras)) for b in range(len(cameras)) if a != b}

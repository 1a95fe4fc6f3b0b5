"""Matching detections to tracks: an optimal one-to-one assignment on a similarity matrix."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass(frozen=True, eq=False)
class Assignment:
    """Result of :func:`associate`.

    ``matches`` is int ``(K, 2)`` of ``(detection_index, track_index)`` pairs;
    ``unmatched_detections`` and ``unmatched_tracks`` are sorted int ``(M,)`` arrays.
    """

    matches: np.ndarray
    unmatched_detections: np.ndarray
    unmatched_tracks: np.ndarray


def associate(similarity: np.ndarray, threshold: float, *, admissible: np.ndarray | None = None) -> Assignment:
    """Match detections (rows) to tracks (columns) of ``similarity`` float ``(D, T)``.

    The assignment maximises the total similarity (Hungarian method, scipy's
    ``linear_sum_assignment``); pairs whose similarity is below ``threshold`` are then
    rejected, leaving both sides unmatched, as in SORT. When every row and column has at most
    one entry above the threshold the obvious pairs are taken directly.

    admissible: optional bool ``(D, T)``; pairs where it is False are never matched (they are
    left out of the assignment, so the most admissible pairs are matched first, then the
    highest total similarity among them). Used when a gate (e.g. IoU) and a ranking (IoU
    blended with appearance) differ.
    """
    sim = np.asarray(similarity, dtype=np.float64)
    if admissible is not None:
        sim = np.where(admissible, sim, np.minimum(threshold, 0.0) - 1.0 - float(sim.size))
    n_det, n_trk = sim.shape
    if n_det == 0 or n_trk == 0:
        pairs = np.empty((0, 2), dtype=np.intp)
    else:
        above = sim > threshold
        if above.sum(axis=1).max() <= 1 and above.sum(axis=0).max() <= 1:
            pairs = np.argwhere(above)
        else:
            rows, cols = linear_sum_assignment(-sim)
            pairs = np.stack([rows, cols], axis=1)
        pairs = pairs[sim[pairs[:, 0], pairs[:, 1]] >= threshold]
    return Assignment(
        matches=pairs.astype(np.intp).reshape(-1, 2),
        unmatched_detections=np.setdiff1d(np.arange(n_det), pairs[:, 0]).astype(np.intp),
        unmatched_tracks=np.setdiff1d(np.arange(n_trk), pairs[:, 1]).astype(np.intp),
    )

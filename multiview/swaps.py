"""Left and right swapped by the 2D detector in one view, undone before triangulating.

A detector often labels a limb of a person seen from behind or from the side with the wrong
side. For each left/right pair of parts (``left_knee`` / ``right_knee``, ...) and each view of
a group, the pair is triangulated with that view's two labels as given and exchanged; the view's
labels are exchanged when that lowers the pair's reprojection error over all the views to less
than :data:`SWAP_GAIN` of what it was (Pose2Sim's ``handle_LR_swap`` does the same search).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from multiview.camera import Camera
from multiview.triangulation import TriangulationSettings, triangulate

SWAP_GAIN = 0.6
_AGREEMENT = TriangulationSettings(max_reprojection_px=float("inf"))


def mirror_pairs(part_names: Sequence[str]) -> list[tuple[int, int]]:
    """Index pairs ``(left, right)`` of the parts named ``left_X`` and ``right_X``."""
    index = {n: i for i, n in enumerate(part_names)}
    return [(i, index["right_" + n[5:]]) for n, i in index.items()
            if n.startswith("left_") and "right_" + n[5:] in index]


def unswap(cameras: Sequence[Camera], pixels: np.ndarray, confidence: np.ndarray,
           pairs: Sequence[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """``pixels`` ``(K, V, 2)`` and ``confidence`` ``(K, V)`` with swapped pairs exchanged, and
    the ``(pair index, view)`` exchanged."""
    pixels, confidence = pixels.copy(), confidence.copy()
    views = [v for v in range(pixels.shape[1]) if confidence[:, v].any()]
    if len(views) < 3 or not pairs:
        return pixels, confidence, []  # two views agree with either labelling
    done = []
    for p, (a, b) in enumerate(pairs):
        idx = [a, b]
        variants_px = [pixels[idx]]
        variants_cf = [confidence[idx]]
        for v in views:
            px, cf = pixels[idx].copy(), confidence[idx].copy()
            px[:, v] = px[::-1, v]
            cf[:, v] = cf[::-1, v]
            variants_px.append(px)
            variants_cf.append(cf)
        tri = triangulate(cameras, np.concatenate(variants_px), np.concatenate(variants_cf), _AGREEMENT)
        err = tri.per_view_error_px.reshape(len(variants_px), 2, -1)
        score = np.array([np.nansum(e) if np.isfinite(e).sum() >= 4 else np.inf for e in err])
        best = int(np.argmin(score))
        if best > 0 and np.isfinite(score[0]) and score[best] < SWAP_GAIN * score[0]:
            v = views[best - 1]
            pixels[idx, v] = pixels[idx[::-1], v]
            confidence[idx, v] = confidence[idx[::-1], v]
            done.append((p, v))
    return pixels, confidence, done

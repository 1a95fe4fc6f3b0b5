"""Left/right swaps of a limb between frames: found, and undone where the evidence is clear.

Pose detectors mix up a person's left and right limbs now and then (legs crossing in a side view,
a turn): a knee labelled "right" in one frame is labelled "left" in the next. The angles of the
two sides then trade places for a while, which no smoothing repairs.

For each limb pair (:data:`LIMB_PAIRS`: the distal joints, elbow + wrist and knee + ankle), the
clear frames are compared: those where both sides are seen and apart (a detector that loses a
hidden limb often puts both labels on the one it sees; such a frame says nothing about which is
which, and takes the state of the frame before it). Each clear frame is compared with the clear
frame before it: ``same`` is how far each side's joints moved (mean over the joints seen in both
frames, right + left), ``crossed`` how far they moved if the labels were exchanged. A frame
crosses the labels when ``crossed < min_gain * same`` and the difference is more than
``min_jump`` torso lengths; from there on the labels stay exchanged until the next crossing (so
a swap that lasts is undone for as long as it lasts). Clear frames further apart than
``max_gap`` frames are not compared: each stretch between such gaps is judged on its own, and
where the exchanged frames would be most of a stretch's clear frames, the detector is taken to
be right most of the time: the other frames are the swapped ones. Two legs passing each other
(a real crossing, close together) never qualify: it takes a jump.

Input keypoints: float ``(F, K, 3)`` x, y pixels and confidence (<= 0: missing); the parts by
name (``part_names``), as in :mod:`analysis.angles`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from analysis.points import torso_length, xy

#: Limb pair name -> (right joints, left joints).
LIMB_PAIRS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "arms": (("right_elbow", "right_wrist"), ("left_elbow", "left_wrist")),
    "legs": (("right_knee", "right_ankle"), ("left_knee", "left_ankle")),
}
#: Parts beyond the wrist and ankle that go with them when a skeleton has them (BlazePose's
#: hand and foot points): exchanged with the limb, though not used to find the swap.
DISTAL_PARTS: dict[str, tuple[str, ...]] = {"arms": ("pinky", "index", "thumb"), "legs": ("heel", "foot_index")}
MIN_GAIN = 0.5
MIN_JUMP = 0.15
#: Both sides' joints at least this many torso lengths apart for a frame to be compared.
MIN_APART = 0.1


@dataclass(frozen=True, eq=False)
class SwapCorrection:
    """``keypoints``: the input with the swapped frames' limbs exchanged back (a copy);
    ``swapped``: pair name -> bool ``(F,)``, the frames whose labels were exchanged."""

    keypoints: np.ndarray
    swapped: dict[str, np.ndarray]

    @property
    def any_swapped(self) -> np.ndarray:
        frames = len(self.keypoints)
        return np.logical_or.reduce([*self.swapped.values(), np.zeros(frames, bool)])


def _moved(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean distance ``(N,)`` over the joints seen in both ``a`` and ``b`` (``(N, J, 2)``);
    NaN where none is."""
    distance = np.linalg.norm(a - b, axis=2)
    seen = np.isfinite(distance)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(seen.any(axis=1), np.where(seen, distance, 0.0).sum(axis=1) / seen.sum(axis=1), np.nan)


def _previous(valid: np.ndarray) -> np.ndarray:
    """For each frame, the index of the last valid frame before it (-1 if none)."""
    index = np.where(valid, np.arange(len(valid)), -1)
    before = np.concatenate([[-1], np.maximum.accumulate(index)[:-1]])
    return before


def limb_swaps(keypoints: np.ndarray, right: Sequence[int], left: Sequence[int], *, frames: np.ndarray,
               scale: float, max_gap: int, min_gain: float = MIN_GAIN, min_jump: float = MIN_JUMP,
               min_apart: float = MIN_APART) -> np.ndarray:
    """bool ``(F,)``: the frames whose ``right`` and ``left`` joints (part indexes) are swapped.

    Only clear frames are compared: both sides seen (a joint each) and apart (their mean
    distance at least ``min_apart`` torso lengths; two labels on one limb, which detectors
    produce when a limb is hidden, say nothing about which is which). Each clear frame is
    compared with the clear frame before it; the others take the state of the one before them.
    """
    coords = xy(keypoints)
    r, l = coords[:, list(right)], coords[:, list(left)]
    apart = _moved(r, l)
    with np.errstate(invalid="ignore"):
        clear = np.nan_to_num(apart, nan=0.0) >= min_apart * scale
    before = _previous(clear)
    has_before = clear & (before >= 0)
    cross = np.zeros(len(coords), dtype=bool)
    now, then = np.flatnonzero(has_before), before[has_before]
    close = (np.asarray(frames)[now] - np.asarray(frames)[then]) <= max_gap
    same = _moved(r[now], r[then]) + _moved(l[now], l[then])
    crossed = _moved(r[now], l[then]) + _moved(l[now], r[then])
    with np.errstate(invalid="ignore"):
        jump = (crossed < min_gain * same) & (same - crossed > min_jump * scale) & close
    cross[now] = np.nan_to_num(jump, nan=0).astype(bool)
    state = (np.cumsum(cross) % 2).astype(bool)
    # Stretches of clear frames compared with each other; each is mostly as detected.
    starts = clear & ~np.isin(np.arange(len(coords)), now[close])
    stretch = np.cumsum(starts)
    size = int(stretch.max(initial=0)) + 1
    exchanged = np.bincount(stretch[clear], weights=state[clear], minlength=size)
    flip = 2 * exchanged > np.bincount(stretch[clear], minlength=size)
    return state ^ flip[stretch]


def correct_limb_swaps(keypoints: np.ndarray, part_names: Sequence[str], *, frames: np.ndarray | None = None,
                       max_gap: int = 2, min_gain: float = MIN_GAIN, min_jump: float = MIN_JUMP) -> SwapCorrection:
    """Find and undo left/right swaps (see the module docstring).

    frames: int ``(F,)`` frame numbers of the rows, increasing (default 0, 1, 2, ...);
    max_gap: clear frames further apart than this many frames are not compared.
    """
    keypoints = np.asarray(keypoints)
    count = len(keypoints)
    frames = np.arange(count) if frames is None else np.asarray(frames)
    names = list(part_names)
    scale = torso_length(keypoints, names)
    swapped: dict[str, np.ndarray] = {}
    for pair, (right_names, left_names) in LIMB_PAIRS.items():
        if not set(right_names + left_names) <= set(names) or count < 2 or not np.isfinite(scale):
            swapped[pair] = np.zeros(count, dtype=bool)
            continue
        swapped[pair] = limb_swaps(keypoints, [names.index(n) for n in right_names],
                                   [names.index(n) for n in left_names], frames=frames, scale=scale,
                                   max_gap=max_gap, min_gain=min_gain, min_jump=min_jump)
    return SwapCorrection(keypoints=exchange(keypoints, swapped, names), swapped=swapped)


def pair_parts(pair: str, part_names: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(right, left) part names exchanged together for limb pair ``pair`` in this skeleton: the
    pair's joints and the :data:`DISTAL_PARTS` the skeleton has."""
    right, left = LIMB_PAIRS[pair]
    extra = [p for p in DISTAL_PARTS.get(pair, ()) if f"right_{p}" in part_names and f"left_{p}" in part_names]
    return right + tuple(f"right_{p}" for p in extra), left + tuple(f"left_{p}" for p in extra)


def exchange(keypoints: np.ndarray, swapped: dict[str, np.ndarray], part_names: Sequence[str]) -> np.ndarray:
    """A float64 copy of ``keypoints`` with each pair's right and left joints (and the distal
    parts that go with them) exchanged in the frames its mask (pair name -> bool ``(F,)``) marks."""
    names = list(part_names)
    out = np.asarray(keypoints).astype(np.float64, copy=True)
    for pair, mask in swapped.items():
        right_names, left_names = pair_parts(pair, names)
        right = [names.index(n) for n in right_names]
        left = [names.index(n) for n in left_names]
        rows = np.flatnonzero(mask)
        if len(rows):
            out[np.ix_(rows, right + left)] = out[np.ix_(rows, left + right)]
    return out


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """The ``[start, stop)`` index ranges where ``mask`` is True."""
    padded = np.concatenate([[False], np.asarray(mask, bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def majority(mask: np.ndarray, window: int) -> np.ndarray:
    """True where most of the ``window`` frames centred on a frame are True in ``mask``: which
    labels a smoothed series follows, when it was smoothed over about ``window`` frames of a
    series with swaps in it (a lone swapped frame was smoothed away; a long swap was not)."""
    mask = np.asarray(mask, dtype=bool)
    if not len(mask):
        return mask.copy()
    # odd, so that it is centred; at most the series' length (np.convolve's "same" answers the
    # longer of the two lengths)
    window = min(max(1, int(window)) | 1, len(mask) - 1 + len(mask) % 2)
    counts = np.convolve(mask.astype(np.int64), np.ones(window, np.int64), mode="same")
    seen = np.convolve(np.ones(len(mask), np.int64), np.ones(window, np.int64), mode="same")
    return 2 * counts > seen

"""Left/right swaps of a limb between frames: found, and undone where the evidence is clear.

Pose detectors mix up a person's left and right limbs now and then (legs crossing in a side view,
a turn): a knee labelled "right" in one frame is labelled "left" in the next. The angles of the
two sides then trade places for a while, which no smoothing repairs.

For each limb pair (:data:`LIMB_PAIRS`: the distal joints, elbow + wrist and knee + ankle), every
frame is compared with the person's previous frame: ``same`` is how far each side's joints moved
(mean over the joints seen in both frames, right + left), ``crossed`` how far they moved if the
labels were exchanged. A frame crosses the labels when ``crossed < min_gain * same`` and the
difference is more than ``min_jump`` torso lengths; from there on the labels stay exchanged
until the next crossing (so a swap that lasts is undone for as long as it lasts). Frames further
apart than ``max_gap`` are not compared: each stretch between such gaps is judged on its own,
and where the exchanged frames would be most of a stretch, the detector is taken to be right
most of the time: the other frames of the stretch are the swapped ones. Two legs passing each
other (a real crossing, close together) never qualify: it takes a jump.

Input keypoints: float ``(F, K, 3)`` x, y pixels and confidence (<= 0: missing); the parts by
name (``part_names``), as in :mod:`analysis.angles`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

#: Limb pair name -> (right joints, left joints).
LIMB_PAIRS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "arms": (("right_elbow", "right_wrist"), ("left_elbow", "left_wrist")),
    "legs": (("right_knee", "right_ankle"), ("left_knee", "left_ankle")),
}
MIN_GAIN = 0.5
MIN_JUMP = 0.15


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


def _xy(keypoints: np.ndarray) -> np.ndarray:
    xy = np.asarray(keypoints[..., :2], dtype=np.float64).copy()
    xy[~(np.asarray(keypoints[..., 2]) > 0)] = np.nan
    return xy


def _moved(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean distance ``(F-1,)`` over joints seen in both ``a`` and ``b`` (``(F-1, J, 2)``);
    NaN where none is."""
    distance = np.linalg.norm(a - b, axis=2)
    seen = np.isfinite(distance)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(seen.any(axis=1), np.where(seen, distance, 0.0).sum(axis=1) / seen.sum(axis=1), np.nan)


def torso_length(keypoints: np.ndarray, part_names: Sequence[str]) -> float:
    """Median neck to hips' midpoint distance over the frames, pixels (NaN if never seen)."""
    names = list(part_names)
    needed = ("neck", "right_hip", "left_hip")
    if not set(needed) <= set(names):
        return float("nan")
    xy = _xy(keypoints)
    neck, right, left = (xy[:, names.index(n)] for n in needed)
    lengths = np.linalg.norm(neck - (right + left) / 2, axis=1)
    return float(np.nanmedian(lengths)) if np.isfinite(lengths).any() else float("nan")


def crossings(keypoints: np.ndarray, right: Sequence[int], left: Sequence[int], *, frames: np.ndarray,
              scale: float, max_gap: int, min_gain: float = MIN_GAIN, min_jump: float = MIN_JUMP) -> np.ndarray:
    """bool ``(F,)``: the frames whose right/left labels are crossed against the frame before."""
    xy = _xy(keypoints)
    r, l = xy[:, list(right)], xy[:, list(left)]
    same = _moved(r[1:], r[:-1]) + _moved(l[1:], l[:-1])
    crossed = _moved(r[1:], l[:-1]) + _moved(l[1:], r[:-1])
    close = np.diff(np.asarray(frames)) <= max_gap
    with np.errstate(invalid="ignore"):
        jump = (crossed < min_gain * same) & (same - crossed > min_jump * scale) & close
    return np.concatenate([[False], np.nan_to_num(jump, nan=0).astype(bool)])


def correct_limb_swaps(keypoints: np.ndarray, part_names: Sequence[str], *, frames: np.ndarray | None = None,
                       max_gap: int = 2, min_gain: float = MIN_GAIN, min_jump: float = MIN_JUMP) -> SwapCorrection:
    """Find and undo left/right swaps (see the module docstring).

    frames: int ``(F,)`` frame numbers of the rows, increasing (default 0, 1, 2, ...);
    max_gap: rows further apart than this many frames are not compared.
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
        right = [names.index(n) for n in right_names]
        left = [names.index(n) for n in left_names]
        cross = crossings(keypoints, right, left, frames=frames, scale=scale, max_gap=max_gap,
                          min_gain=min_gain, min_jump=min_jump)
        swapped[pair] = _mostly_as_detected((np.cumsum(cross) % 2).astype(bool), np.diff(frames) > max_gap)
    return SwapCorrection(keypoints=exchange(keypoints, swapped, names), swapped=swapped)


def _mostly_as_detected(state: np.ndarray, breaks: np.ndarray) -> np.ndarray:
    """``state`` inverted in each stretch (split where ``breaks``, ``(F-1,)``) where it is True
    in more than half the frames."""
    starts = np.concatenate([[0], np.flatnonzero(breaks) + 1])
    ones = np.add.reduceat(state.astype(np.int64), starts)
    lengths = np.diff(np.concatenate([starts, [len(state)]]))
    flip = np.repeat(2 * ones > lengths, lengths)
    return state ^ flip


def exchange(keypoints: np.ndarray, swapped: dict[str, np.ndarray], part_names: Sequence[str]) -> np.ndarray:
    """A float64 copy of ``keypoints`` with each pair's right and left joints exchanged in the
    frames its mask (pair name -> bool ``(F,)``) marks."""
    names = list(part_names)
    out = np.asarray(keypoints).astype(np.float64, copy=True)
    for pair, mask in swapped.items():
        right = [names.index(n) for n in LIMB_PAIRS[pair][0]]
        left = [names.index(n) for n in LIMB_PAIRS[pair][1]]
        rows = np.flatnonzero(mask)
        if len(rows):
            out[np.ix_(rows, right + left)] = out[np.ix_(rows, left + right)]
    return out


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """The ``[start, stop)`` index ranges where ``mask`` is True."""
    padded = np.concatenate([[False], np.asarray(mask, bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def long_runs(mask: np.ndarray, min_length: int) -> np.ndarray:
    """``mask`` keeping only its runs of at least ``min_length`` True values."""
    out = np.zeros(len(mask), dtype=bool)
    for start, stop in runs(mask):
        if stop - start >= min_length:
            out[start:stop] = True
    return out

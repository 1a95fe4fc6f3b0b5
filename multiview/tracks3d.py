"""3D skeletons over time: one ID per person over the whole recording, short gaps filled,
keypoints smoothed with the 2D pipeline's Butterworth (:mod:`tracking.smoothing`).

Tracking: each frame's skeletons are matched to the people seen before by the median distance
between the parts both have (:func:`skeleton_distance`), one global assignment per frame (Hungarian), a match
allowed within ``max_jump_m`` plus ``max_speed_m_s`` times the time since the person was last
seen; a person unseen for more than ``lost_after_s`` is not matched again. A skeleton left over
within ``max_jump_m`` of one placed in the same frame is a duplicate and starts nobody, and
tracks that take turns over one person's frames are joined (:func:`merge_interleaved`). People seen for less
than ``min_duration_s`` are dropped (a ghost of a wrong grouping). IDs start at 1 in order of
first appearance.

Per person: a part that makes its limb (upper arm, forearm, thigh, shank) longer or shorter
than ``limb_tolerance`` (15%) of that limb's median length over the track is taken for a
detection error and left out (:func:`limb_outliers`; a bone does not change length, and a
wrist or elbow put on the other arm or the body in two views triangulates consistently but
wrongly). Then per part: gaps up to ``fill_gaps_s`` are filled by linear interpolation (flagged),
then the x, y, z series is low-passed run by run (:func:`tracking.smoothing.smooth_series`);
a filled or smoothed part whose limb is then off its length by more than ``limb_tolerance`` is
left out of the result (the person's other parts stay).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from multiview.fusion import Skeleton3D
from tracking.smoothing import smooth_series, smoothing_preset


@dataclass(frozen=True)
class Tracking3DSettings:
    max_jump_m: float = 0.5
    max_speed_m_s: float = 6.0
    lost_after_s: float = 1.0
    min_duration_s: float = 0.2
    fill_gaps_s: float = 0.5
    smoothing: str = "light"
    limb_tolerance: float = 0.15


#: Limbs whose length is checked, from the trunk out, per side (``right_`` / ``left_`` + name).
LIMB_CHAINS = (("shoulder", "elbow", "wrist"), ("hip", "knee", "ankle"))
#: A part further than this (metres) from its person's median position is a detection error.
MAX_SPREAD_M = 1.5


@dataclass(frozen=True, eq=False)
class Person3D:
    """person: ID from 1; frames ``(F,)`` time-line frames from first to last seen; points ``(F,
    K, 3)`` smoothed metres (NaN = missing); raw ``(F, K, 3)`` as triangulated; interpolated
    ``(F, K)``; error_px ``(F, K)``; views ``(F, K)`` bit masks; per_view_error_px ``(F, K, V)``;
    sources: per frame ``{view: 2D person index}`` (empty where not seen)."""

    person: int
    frames: np.ndarray
    points: np.ndarray
    raw: np.ndarray
    interpolated: np.ndarray
    error_px: np.ndarray
    views: np.ndarray
    per_view_error_px: np.ndarray
    sources: tuple[dict[int, int], ...]


def track_people(skeletons: Sequence[Sequence[Skeleton3D]], *, fps: float, view_count: int,
                 settings: Tracking3DSettings = Tracking3DSettings(),
                 part_names: Sequence[str] = ()) -> list[Person3D]:
    """People from the per-frame skeletons (module docstring)."""
    tracks: list[dict[int, Skeleton3D]] = []
    last: list[tuple[int, np.ndarray]] = []
    lost_frames = settings.lost_after_s * fps
    for frame, found in enumerate(skeletons):
        live = [i for i, (f, _) in enumerate(last) if frame - f <= lost_frames]
        centres = [s.points for s in found]
        matched = set()
        if live and found:
            cost = np.full((len(live), len(found)), 1e6)
            for a, i in enumerate(live):
                f, c = last[i]
                gate = settings.max_jump_m + settings.max_speed_m_s * (frame - f) / fps
                for b, centre in enumerate(centres):
                    d = skeleton_distance(centre, c)
                    if d <= gate:
                        cost[a, b] = d
            for a, b in zip(*linear_sum_assignment(cost)):
                if cost[a, b] < 1e6:
                    tracks[live[a]][frame] = found[b]
                    last[live[a]] = (frame, centres[b])
                    matched.add(b)
        for b, skeleton in enumerate(found):
            if b in matched:
                continue
            if any(skeleton_distance(centres[b], centres[m]) < settings.max_jump_m for m in matched):
                continue  # a second skeleton of someone already placed in this frame
            tracks.append({frame: skeleton})
            last.append((frame, centres[b]))
    tracks = merge_interleaved(tracks, settings.max_jump_m)
    min_frames = max(2, int(round(settings.min_duration_s * fps)))
    kept = [t for t in tracks if len(t) >= min_frames]
    kept.sort(key=lambda t: min(t))
    return [_person(i + 1, t, fps, view_count, settings, part_names) for i, t in enumerate(kept)]


def merge_interleaved(tracks: list[dict[int, Skeleton3D]], max_jump_m: float,
                      window: int = 5, share: float = 0.8) -> list[dict[int, Skeleton3D]]:
    """Join tracks that are seldom (in at most 10% of the shorter's frames, or one) apart by more
    than ``max_jump_m`` in a frame they share and where most (``share``) of the shorter's skeletons lie within ``max_jump_m`` of the longer's
    within ``window`` frames: one person whose frames were dealt between two tracks."""
    tracks = sorted(tracks, key=len, reverse=True)
    merged = True
    while merged:
        merged = False
        for a in range(len(tracks)):
            for b in range(a + 1, len(tracks)):
                long, short = tracks[a], tracks[b]
                both = set(long) & set(short)
                apart = sum(skeleton_distance(long[f].points, short[f].points) > max_jump_m for f in both)
                if apart > max(1, 0.1 * len(short)):
                    continue  # two people at once
                frames = np.array(sorted(long))
                near = checked = 0
                for f, s in short.items():
                    close = frames[np.abs(frames - f) <= window]
                    if len(close):
                        checked += 1
                        near += min(skeleton_distance(s.points, long[int(g)].points) for g in close) <= max_jump_m
                if checked and near >= share * checked:
                    tracks[a] = {**short, **long}  # the longer keeps its own where both have one
                    del tracks[b]
                    merged = True
                    break
            if merged:
                break
    return tracks


def skeleton_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Median distance (metres) between the parts two skeletons ``(K, 3)`` both have; their
    centres' distance when they share fewer than 3."""
    apart = np.linalg.norm(a - b, axis=1)
    if np.isfinite(apart).sum() >= 3:
        return float(np.nanmedian(apart))
    return float(np.linalg.norm(np.nanmedian(a, axis=0) - np.nanmedian(b, axis=0)))


def limb_outliers(points: np.ndarray, part_names: Sequence[str], tolerance: float) -> np.ndarray:
    """``(F, K)`` mask of parts taken for detection errors: further than :data:`MAX_SPREAD_M`
    from the person's median position in the frame, or making their limb (:data:`LIMB_CHAINS`,
    from the trunk out) longer or shorter than ``tolerance`` of the limb's median length over
    the track. The part further from the trunk is the one left out; where the part nearer the
    trunk is missing, the nearest one further in bounds it by the limbs' summed lengths."""
    index = {n: i for i, n in enumerate(part_names)}
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # a frame without any part: NaN, as meant
        centre = np.nanmedian(points, axis=1, keepdims=True)
        mask = np.linalg.norm(points - centre, axis=2) > MAX_SPREAD_M
    for side in ("right", "left"):
        for chain in LIMB_CHAINS:
            names = [f"{side}_{n}" for n in chain]
            if not all(n in index for n in names):
                continue
            idx = [index[n] for n in names]
            typical = []
            for a, b in zip(idx[:-1], idx[1:]):
                length = np.linalg.norm(points[:, b] - points[:, a], axis=1)
                typical.append(float(np.nanmedian(length)) if np.isfinite(length).sum() >= 3 else np.nan)
            for step in range(1, len(idx)):
                b = idx[step]
                for back in range(step - 1, -1, -1):  # the parent, then parts further in
                    a = idx[back]
                    expected = float(np.sum(typical[back:step]))
                    if not np.isfinite(expected):
                        break
                    here = np.isfinite(points[:, a, 0]) & ~mask[:, a] & np.isfinite(points[:, b, 0])
                    length = np.linalg.norm(points[:, b] - points[:, a], axis=1)
                    with np.errstate(invalid="ignore"):
                        if back == step - 1:
                            bad = np.abs(length - expected) > tolerance * expected
                        else:
                            bad = length > (1 + tolerance) * expected
                    mask[:, b] |= here & bad
    return mask


def _person(person: int, track: dict[int, Skeleton3D], fps: float, view_count: int,
            settings: Tracking3DSettings, part_names: Sequence[str] = ()) -> Person3D:
    first, last = min(track), max(track)
    frames = np.arange(first, last + 1)
    k = next(iter(track.values())).points.shape[0]
    raw = np.full((len(frames), k, 3), np.nan)
    error = np.full((len(frames), k), np.nan)
    views = np.zeros((len(frames), k), dtype=np.int64)
    per_view = np.full((len(frames), k, view_count), np.nan)
    sources: list[dict[int, int]] = [{} for _ in frames]
    for f, s in track.items():
        raw[f - first], error[f - first], views[f - first] = s.points, s.error_px, s.views
        per_view[f - first] = s.per_view_error_px
        sources[f - first] = dict(s.sources)
    if settings.limb_tolerance > 0 and part_names:
        outliers = limb_outliers(raw, part_names, settings.limb_tolerance)
        raw = raw.copy()
        raw[outliers] = np.nan
        error[outliers], views[outliers], per_view[outliers] = np.nan, 0, np.nan
    filled, interpolated = fill_gaps(raw, int(round(settings.fill_gaps_s * fps)),
                                     parents=limb_parents(part_names))
    smoothed = filled.copy()
    preset = smoothing_preset(settings.smoothing)
    if preset is not None:
        for j in range(k):
            present = np.isfinite(filled[:, j, 0])
            smoothed[:, j] = smooth_series(frames, np.nan_to_num(filled[:, j]), present, fps=fps, settings=preset)
            smoothed[~present, j] = np.nan
    if settings.limb_tolerance > 0 and part_names:
        # filled or smoothed parts whose limb no longer has its length are left out too
        off = limb_outliers(smoothed, part_names, settings.limb_tolerance)
        smoothed[off] = np.nan
        interpolated = interpolated & ~off
    return Person3D(person, frames, smoothed, raw, interpolated, error, views, per_view, tuple(sources))


def limb_parents(part_names: Sequence[str]) -> dict[int, int]:
    """``{part: the part one step nearer the trunk}`` along :data:`LIMB_CHAINS`, trunk first."""
    index = {n: i for i, n in enumerate(part_names)}
    parents = {}
    for side in ("right", "left"):
        for chain in LIMB_CHAINS:
            names = [f"{side}_{n}" for n in chain]
            if all(n in index for n in names):
                for inner, outer in zip(names[:-1], names[1:]):
                    parents[index[outer]] = index[inner]
    return parents


def fill_gaps(points: np.ndarray, max_gap: int, *, parents: dict[int, int] | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Fill each part's gaps of at most ``max_gap`` frames inside its seen range; returns the
    filled ``(F, K, 3)`` and the ``(F, K)`` mask of filled samples. A part with a parent
    (``parents``: :func:`limb_parents`) that is there through the gap is filled in the parent's
    frame: the limb's direction is turned (spherical interpolation) and its length interpolated
    from one end of the gap to the other, so a limb keeps its length while the parent moves;
    other parts linearly."""
    filled = points.copy()
    mask = np.zeros(points.shape[:2], dtype=bool)
    if max_gap <= 0:
        return filled, mask
    parents = parents or {}
    order = sorted(range(points.shape[1]), key=lambda j: _depth(j, parents))
    for j in order:
        seen = np.flatnonzero(np.isfinite(points[:, j, 0]))
        parent = parents.get(j)
        for a, b in zip(seen[:-1], seen[1:]):
            gap = b - a - 1
            if not 0 < gap <= max_gap:
                continue
            w = (np.arange(1, gap + 1) / (gap + 1))[:, None]
            rows = slice(a + 1, b)
            if parent is not None and np.all(np.isfinite(filled[a:b + 1, parent, 0])):
                start, end = points[a, j] - filled[a, parent], points[b, j] - filled[b, parent]
                filled[rows, j] = filled[rows, parent] + _slerp(start, end, w)
            else:
                filled[rows, j] = points[a, j] * (1 - w) + points[b, j] * w
            mask[rows, j] = True
    return filled, mask


def _depth(part: int, parents: dict[int, int]) -> int:
    depth = 0
    while part in parents:
        part, depth = parents[part], depth + 1
    return depth


def _slerp(start: np.ndarray, end: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Vectors from ``start`` to ``end`` ``(3,)`` at fractions ``w`` ``(G, 1)``: the direction
    turned at a steady rate, the length interpolated linearly."""
    la, lb = np.linalg.norm(start), np.linalg.norm(end)
    if la == 0 or lb == 0:
        return start * (1 - w) + end * w
    ua, ub = start / la, end / lb
    angle = np.arccos(np.clip(ua @ ub, -1.0, 1.0))
    if angle < 1e-6:
        direction = ua * (1 - w) + ub * w
    else:
        direction = (np.sin((1 - w) * angle) * ua + np.sin(w * angle) * ub) / np.sin(angle)
    return direction * (la * (1 - w) + lb * w)

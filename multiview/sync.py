"""Putting the views on one time line: frames are matched by time, with a per-view offset.

Offsets are in frames of the views' common frame rate: view v's frame ``f`` shows the moment of
the reference view's (view 0's) frame ``f + offset[v]`` (a camera started 12 frames late has
offset +12). Given ones are used as they are; otherwise :func:`estimate_offsets` finds them from
the people's motion seen through the calibration:

1. per view, the tracked people are followed (the :data:`MAX_PEOPLE` whose centre spans the
   most, in person heights);
2. for every pair of views, every pair of those people and every lag, their parts are compared
   through the epipolar geometry: the mean distance of each part from its counterpart's
   epipolar line (either side's label, as detectors swap left and right; the worst 20% left
   out) over the frames the lag puts together. At the true lag one person's parts lie on their
   lines; at any other lag the motion takes them off. Of a pair of views, the pair of people
   whose curve dips deepest (lowest over median) is the same person seen by both: that curve,
   divided by its median, is the pair of views';
3. the offsets are those that make the sum of these curves over all pairs smallest, found view
   by view from the pairs with view 0 and refined a few rounds (a pair of cameras facing each
   other has a flat curve; the other pairs decide).

Why not the cross-correlation of keypoint speeds Pose2Sim uses: on the 1.7 s demo (a person
walking slowly, two people standing in the background) it gave offsets wrong by 3 to 40 frames
in most variants tried (speeds, vertical speeds, legs only, 3 and 6 Hz), while the calibration
is known and this is sharper. Its confidence: ``1 - best / second best`` of the summed curve
(second best: further than :data:`PEAK_WIDTH_FRAMES` from the best; 0 = no preference), with
the epipolar distance in pixels at the estimate.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from multiview.association import fundamental
from multiview.camera import Camera
from multiview.errors import SyncError
from multiview.swaps import mirror_pairs
from multiview.views import ViewKeypoints

PEAK_WIDTH_FRAMES = 3
#: Least frames two views must share at a lag for it to count.
MIN_OVERLAP_FRAMES = 20
#: A pair's distance at a lag not measured (too little overlap) counts as this times its median.
UNMEASURED = 3.0
KEEP_FRACTION = 0.8
#: People followed per view: the most travelled.
MAX_PEOPLE = 5
#: Offsets looked for by default: up to this many seconds, or half the shortest video.
MAX_LAG_S = 5.0
#: A pair of views' distance at a lag is measured on at most about this many frames (every n-th).
MAX_SAMPLED_FRAMES = 600
#: The pair of people of two views is chosen on every n-th lag, then measured on every lag.
COARSE_STEP = 3
MIN_CONFIDENCE = 0.1


@dataclass(frozen=True)
class OffsetEstimate:
    """offset: frames (see the module docstring); confidence: 0..1 (1 for the reference and for
    given offsets); epipolar_px: the moving people's mean epipolar distance to the other views
    at this offset (NaN for the reference or given offsets); estimated: False when given."""

    offset: int
    confidence: float
    epipolar_px: float = float("nan")
    estimated: bool = True

    def to_dict(self) -> dict:
        return {"offset_frames": self.offset, "estimated": self.estimated,
                "confidence": None if not np.isfinite(self.confidence) else round(self.confidence, 3),
                "epipolar_px": None if not np.isfinite(self.epipolar_px) else round(self.epipolar_px, 2)}


def tracked_people(view: ViewKeypoints, camera: Camera, *, min_confidence: float = 0.1,
                   most: int = MAX_PEOPLE) -> list[np.ndarray]:
    """The view's tracked people seen in MIN_OVERLAP_FRAMES frames or more, those whose centre
    spans the most (in person heights) first, at most ``most``: each
    ``(F, K, 3)`` undistorted pixels (NaN where not seen or below ``min_confidence``)."""
    k = len(view.part_names)
    tracks: dict[int, dict[int, np.ndarray]] = {}
    for f, (people, ids) in enumerate(zip(view.people, view.track_ids)):
        for person, tid in zip(people, ids):
            if tid >= 0:
                tracks.setdefault(int(tid), {})[f] = person
    ranked = []
    for frames in tracks.values():
        seen = [p for p in frames.values() if (p[:, 2] >= min_confidence).sum() >= 3]
        if len(seen) < MIN_OVERLAP_FRAMES:
            continue
        height = float(np.median([np.ptp(p[p[:, 2] >= min_confidence, 1]) for p in seen]))
        centres = np.array([np.median(p[p[:, 2] >= min_confidence, :2], axis=0) for p in seen])
        moved = float(np.linalg.norm(np.ptp(centres, axis=0))) / max(height, 1.0)
        ranked.append((moved, frames))
    ranked.sort(key=lambda item: -item[0])
    out = []
    for _, frames in ranked[:most]:
        track = np.full((view.frame_count, k, 3), np.nan)
        for f, person in frames.items():
            p = person.copy()
            p[:, :2] = camera.undistort(person[:, :2])
            p[person[:, 2] < min_confidence] = np.nan
            track[f] = p
        out.append(track)
    return out


def _epipolar(F: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Symmetric epipolar distance ``(T, K)`` of points ``a``, ``b`` ``(T, K, 3)``."""
    ha = np.concatenate([a[..., :2], np.ones(a.shape[:2] + (1,))], axis=2)
    hb = np.concatenate([b[..., :2], np.ones(b.shape[:2] + (1,))], axis=2)
    lb, la = ha @ F.T, hb @ F
    num = np.abs((lb * hb).sum(-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (num / np.hypot(la[..., 0], la[..., 1]) + num / np.hypot(lb[..., 0], lb[..., 1])) / 2


def pair_curve(F: np.ndarray, a: np.ndarray, b: np.ndarray, lags: np.ndarray, mirror: np.ndarray) -> np.ndarray:
    """Per lag L, the trimmed mean epipolar distance between ``a[f + L]`` and ``b[f]`` (NaN where
    fewer than MIN_OVERLAP_FRAMES frames pair up)."""
    out = np.full(len(lags), np.nan)
    f = np.arange(0, len(b), max(1, len(b) // MAX_SAMPLED_FRAMES))  # a long video: every n-th frame
    for i, lag in enumerate(lags):
        g = f + lag
        ok = (g >= 0) & (g < len(a))
        if ok.sum() < MIN_OVERLAP_FRAMES:
            continue
        A, B = a[g[ok]], b[f[ok]]
        d = np.fmin(_epipolar(F, A, B), _epipolar(F, A, B[:, mirror]))
        d = np.sort(d[np.isfinite(d)])
        if len(d) >= MIN_OVERLAP_FRAMES:
            out[i] = d[:max(1, int(KEEP_FRACTION * len(d)))].mean()
    return out


def estimate_offsets(cameras: Sequence[Camera], views: Sequence[ViewKeypoints], *,
                     max_lag_frames: int | None = None) -> list[OffsetEstimate]:
    """Each view's offset to view 0 (module docstring). ``max_lag_frames``: the largest offset
    looked for (default: half the shortest video, at most :data:`MAX_LAG_S` seconds). Raises SyncError when a view shows nobody
    moving, or no lag puts two views' moving people together."""
    n = len(views)
    k = len(views[0].part_names)
    mirror = np.arange(k)
    for a, b in mirror_pairs(views[0].part_names):
        mirror[a], mirror[b] = b, a
    movers = [tracked_people(v, c) for v, c in zip(views, cameras)]
    for view, m in zip(views, movers):
        if not m:
            raise SyncError(f"cannot synchronise {view.name}: nobody is tracked in it long enough (give the offsets)")
    if max_lag_frames is None:
        max_lag_frames = min(min(v.frame_count for v in views) // 2, int(round(MAX_LAG_S * views[0].fps)))
    limit = max_lag_frames
    lags = np.arange(-limit, limit + 1)
    curves: dict[tuple[int, int], np.ndarray] = {}
    raw: dict[tuple[int, int], np.ndarray] = {}
    for a in range(n):
        for b in range(a + 1, n):
            F = fundamental(cameras[a], cameras[b])
            chosen, depth = None, np.inf
            for pa in movers[a]:
                for pb in movers[b]:
                    c = pair_curve(F, pa, pb, lags[::COARSE_STEP], mirror)  # which pair: on a coarse grid
                    if not np.isfinite(c).any():
                        continue
                    dip = float(np.nanmin(c) / np.nanmedian(c))
                    if dip < depth:  # the same person in both views: the deepest dip
                        chosen, depth = (pa, pb), dip
            best = pair_curve(F, *chosen, lags, mirror) if chosen else np.full(len(lags), np.nan)
            raw[(a, b)] = best
            curves[(a, b)] = best / np.nanmedian(best) if np.isfinite(best).any() else best

    def cost(w: int, v: int, lag: int) -> float:  # o_v - o_w = lag
        c, i = (curves[(w, v)], lag + limit) if w < v else (curves[(v, w)], -lag + limit)
        return float(c[i]) if 0 <= i < len(c) and np.isfinite(c[i]) else UNMEASURED

    offsets = [0] * n
    for v in range(1, n):
        if not np.isfinite(curves[(0, v)]).any():
            continue
        offsets[v] = int(lags[np.nanargmin(curves[(0, v)])])
    totals = {}
    for _ in range(4):
        for v in range(1, n):
            total = np.array([sum(cost(w, v, int(lag) - offsets[w]) for w in range(n) if w != v) for lag in lags])
            offsets[v] = int(lags[int(np.argmin(total))])
            totals[v] = total
    out = [OffsetEstimate(0, 1.0, float("nan"))]
    for v in range(1, n):
        total = totals[v]
        best = int(np.argmin(total))
        if total[best] >= UNMEASURED * (n - 1):
            raise SyncError(f"cannot synchronise {views[v].name}: its moving person is never seen by the other "
                            "views at any offset tried (views that never see the same person; give the offsets)")
        away = np.abs(lags - lags[best]) > PEAK_WIDTH_FRAMES
        second = float(total[away].min()) if away.any() else float(total[best])
        confidence = max(0.0, 1.0 - float(total[best]) / second) if second > 0 else 0.0
        px = [raw[(min(w, v), max(w, v))][(offsets[v] - offsets[w]) * (1 if w < v else -1) + limit]
              for w in range(n) if w != v]
        px = [p for p in px if np.isfinite(p)]
        out.append(OffsetEstimate(offsets[v], confidence, float(np.mean(px)) if px else float("nan")))
    return out


def given_offsets(offsets: Sequence[int], count: int) -> list[OffsetEstimate]:
    """Offsets the person gave, one per view (made relative to the first)."""
    if len(offsets) != count:
        raise SyncError(f"{len(offsets)} offsets for {count} videos: give one per video, in the videos' order")
    base = int(offsets[0])
    return [OffsetEstimate(int(o) - base, 1.0, float("nan"), estimated=False) for o in offsets]

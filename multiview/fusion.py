"""Frame by frame: the views' 2D people grouped across views and triangulated into 3D skeletons.

Input: the cameras (one per view), each view's :class:`~multiview.views.ViewKeypoints` and the
offsets (:mod:`multiview.sync`). The time line is the reference view's frames, shifted so that
frame 0 is the first moment any view shows; a frame is fused where two views or more show it.
Output: per time-line frame, the :class:`Skeleton3D` found (not yet tracked: see
:mod:`multiview.tracks3d`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from multiview.association import AssociationSettings, fundamentals_of, group_people
from multiview.camera import Camera
from multiview.errors import FusionCancelled
from multiview.swaps import mirror_pairs, unswap
from multiview.triangulation import TriangulationSettings, triangulate
from multiview.views import ViewKeypoints

#: A 3D skeleton needs at least this many triangulated parts to count as a person.
MIN_PARTS_3D = 6
#: Two skeletons of one frame whose parts lie this close (median, metres) are one person.
SAME_PERSON_M = 0.35
#: Two views' 2D tracks are one person seen by those two views alone only when they agree in at
#: least this share of the frames both are seen (two different people agree now and then).
MIN_PAIR_AGREEMENT = 0.5


@dataclass(frozen=True, eq=False)
class Skeleton3D:
    """points ``(K, 3)`` metres (NaN = not triangulated); error_px ``(K,)``; views ``(K,)`` bit
    masks; sources: ``{view: 2D person index in that frame}`` of the group."""

    points: np.ndarray
    error_px: np.ndarray
    views: np.ndarray
    per_view_error_px: np.ndarray
    sources: dict[int, int] = field(default_factory=dict)

    @property
    def centre(self) -> np.ndarray:
        return np.nanmedian(self.points, axis=0)

    @property
    def part_count(self) -> int:
        return int(np.isfinite(self.points[:, 0]).sum())


@dataclass(frozen=True, eq=False)
class Timeline:
    """frame_count: frames of the time line; start: the reference frame of its frame 0 (<= 0);
    offsets: per view; fps."""

    frame_count: int
    start: int
    offsets: tuple[int, ...]
    fps: float

    def view_frame(self, view: int, frame: int) -> int:
        """The frame of ``view`` shown at time-line ``frame`` (may be out of the view's range)."""
        return frame + self.start - self.offsets[view]


def timeline(views: Sequence[ViewKeypoints], offsets: Sequence[int]) -> Timeline:
    starts = [o for o in offsets]
    stops = [o + v.frame_count for o, v in zip(offsets, views)]
    start = min(starts)
    return Timeline(max(stops) - start, start, tuple(int(o) for o in offsets), views[0].fps)


def fuse(cameras: Sequence[Camera], views: Sequence[ViewKeypoints], line: Timeline, *,
         association: AssociationSettings = AssociationSettings(),
         triangulation: TriangulationSettings = TriangulationSettings(),
         swaps: bool = True, should_cancel=None) -> list[list[Skeleton3D]]:
    """The 3D skeletons of every time-line frame (module docstring)."""
    fundamentals = fundamentals_of(cameras)
    pairs = mirror_pairs(views[0].part_names) if swaps else []
    frames, agreement = [], {}
    for frame in range(line.frame_count):
        if should_cancel is not None and frame % 10 == 0 and should_cancel():
            raise FusionCancelled("cancelled during the fusion")
        people, ids = [], []
        for v, view in enumerate(views):
            f = line.view_frame(v, frame)
            inside = 0 <= f < view.frame_count
            people.append(view.people[f] if inside else np.zeros((0, len(view.part_names), 3)))
            ids.append(view.track_ids[f] if inside else np.zeros(0, dtype=np.int64))
        groups = _group_frame(cameras, people, ids, fundamentals, association, agreement)
        frames.append((people, ids, groups))
    out: list[list[Skeleton3D]] = []
    for people, ids, groups in frames:
        groups = [g for g in groups if len(g) >= 3 or _pair_holds(g, ids, agreement)]
        skeletons = [_triangulate_group(cameras, people, g, triangulation, pairs) for g in groups]
        skeletons = _merge_halves(cameras, people, skeletons, triangulation, pairs)
        out.append([s for s in skeletons if s.part_count >= MIN_PARTS_3D])
    return out


def _group_frame(cameras, people, ids, fundamentals, association: AssociationSettings,
                 agreement: dict) -> list[dict[int, int]]:
    """The frame's groups; counts, per pair of 2D tracks of two views seen together, the frames
    and those where they agree (``agreement[(va, track a, vb, track b)] = [agree, together]``)."""
    undistorted = []
    for cam, p in zip(cameras, people):
        u = p.copy()
        if len(p):
            u[..., :2] = cam.undistort(p[..., :2].reshape(-1, 2)).reshape(p.shape[0], p.shape[1], 2)
        undistorted.append(u)
    distances: dict = {}
    groups = group_people(cameras, undistorted, association, fundamentals, distances)
    for (va, ia, vb, ib), d in distances.items():
        ta, tb = int(ids[va][ia]), int(ids[vb][ib])
        if va < vb and ta >= 0 and tb >= 0:
            tally = agreement.setdefault((va, ta, vb, tb), [0, 0])
            tally[0] += d <= association.max_epipolar_two_views_px
            tally[1] += 1
    return groups


def _pair_holds(group: dict[int, int], ids, agreement: dict) -> bool:
    """A group of two views only is kept when its two 2D tracks agree in at least
    :data:`MIN_PAIR_AGREEMENT` of the frames both are seen (untracked detections: kept)."""
    (va, ia), (vb, ib) = sorted(group.items())
    ta, tb = int(ids[va][ia]), int(ids[vb][ib])
    if ta < 0 or tb < 0:
        return True
    agree, together = agreement.get((va, ta, vb, tb), (0, 0))
    return together > 0 and agree >= MIN_PAIR_AGREEMENT * together


def _triangulate_group(cameras: Sequence[Camera], people: Sequence[np.ndarray], group: dict[int, int],
                       triangulation: TriangulationSettings, pairs=()) -> Skeleton3D:
    k = people[next(iter(group))].shape[1]
    pixels = np.zeros((k, len(cameras), 2))
    conf = np.zeros((k, len(cameras)))
    for v, i in group.items():
        pixels[:, v] = people[v][i, :, :2]
        conf[:, v] = people[v][i, :, 2]
    if pairs:
        pixels, conf, _ = unswap(cameras, pixels, conf, pairs)
    tri = triangulate(cameras, pixels, conf, triangulation)
    return Skeleton3D(tri.points, tri.error_px, tri.views, tri.per_view_error_px, dict(group))


def _merge_halves(cameras: Sequence[Camera], people: Sequence[np.ndarray], skeletons: list[Skeleton3D],
                  triangulation: TriangulationSettings, pairs) -> list[Skeleton3D]:
    """Join skeletons of one frame from disjoint views that lie on each other (one person whose
    views did not all pass the epipolar test, e.g. with limbs swapped in one of them)."""
    merged = True
    while merged and len(skeletons) > 1:
        merged = False
        for a in range(len(skeletons)):
            for b in range(a + 1, len(skeletons)):
                sa, sb = skeletons[a], skeletons[b]
                if set(sa.sources) & set(sb.sources):
                    continue
                apart = np.linalg.norm(sa.points - sb.points, axis=1)
                if np.isfinite(apart).sum() >= 3 and np.nanmedian(apart) < SAME_PERSON_M:
                    joined = _triangulate_group(cameras, people, {**sa.sources, **sb.sources}, triangulation, pairs)
                    skeletons = [s for i, s in enumerate(skeletons) if i not in (a, b)] + [joined]
                    merged = True
                    break
            if merged:
                break
    return skeletons

"""The whole fusion in one call: views on one time line, people matched, triangulated, tracked."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from multiview.association import AssociationSettings
from multiview.camera import Camera
from multiview.errors import FusionError
from multiview.fusion import Timeline, fuse, timeline
from multiview.sync import OffsetEstimate, estimate_offsets, given_offsets
from multiview.tracks3d import Person3D, Tracking3DSettings, track_people
from multiview.triangulation import TriangulationSettings
from multiview.views import ViewKeypoints


@dataclass(frozen=True, eq=False)
class Reconstruction:
    """people: tracked 3D people (IDs from 1); offsets: per view; timeline: the frames fused."""

    people: tuple[Person3D, ...]
    offsets: tuple[OffsetEstimate, ...]
    timeline: Timeline


def reconstruct(cameras: Sequence[Camera], views: Sequence[ViewKeypoints], *,
                offsets: Sequence[int] | None = None,
                association: AssociationSettings = AssociationSettings(),
                triangulation: TriangulationSettings = TriangulationSettings(),
                tracking: Tracking3DSettings = Tracking3DSettings(),
                should_cancel: Callable[[], bool] | None = None) -> Reconstruction:
    """People in 3D from ``views`` (one per camera, same order). ``offsets``: one per view in
    frames (:mod:`multiview.sync`), None = estimated. Raises SyncError, FusionError (nobody seen
    by two views at once)."""
    estimates = given_offsets(offsets, len(views)) if offsets is not None else estimate_offsets(cameras, views)
    line = timeline(views, [e.offset for e in estimates])
    skeletons = fuse(cameras, views, line, association=association, triangulation=triangulation,
                     should_cancel=should_cancel)
    people = track_people(skeletons, fps=line.fps, view_count=len(views), settings=tracking,
                          part_names=views[0].part_names)
    if not people:
        raise FusionError("no person is seen by two views at once: the views never see the same person "
                          "(check that the videos show one scene, filmed at the same time, and that the "
                          "calibration is theirs)")
    return Reconstruction(tuple(people), tuple(estimates), line)

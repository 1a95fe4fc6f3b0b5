"""A tracklet: one track's observations over a whole video, the unit of offline post-processing.

Frames are 0-based frame indexes of the processed sequence (strictly increasing; frames where
the person was not observed are simply absent). Boxes are x1, y1, x2, y2 pixels; keypoints
x, y pixels and confidence (0 = missing).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from tracking.errors import InvalidDetectionsError


@dataclass(frozen=True, eq=False)
class Tracklet:
    """One track's observations.

    track_id: the tracker's ID (any int, unique among the tracklets handed over together).
    frames: int64 ``(F,)``, strictly increasing, ``F >= 1``.
    boxes: float64 ``(F, 4)`` x1, y1, x2, y2 pixels.
    keypoints: optional float64 ``(F, K, 3)`` x, y pixels, confidence (0 = missing).
    appearance: optional float64 ``(B,)`` appearance vector (e.g. the mean of the torso
        histograms, :func:`tracking.appearance.color_histogram`); ``None`` = unknown.
    """

    track_id: int
    frames: np.ndarray
    boxes: np.ndarray
    keypoints: np.ndarray | None = None
    appearance: np.ndarray | None = None

    def __post_init__(self) -> None:
        frames = np.asarray(self.frames, dtype=np.int64).reshape(-1)
        boxes = np.asarray(self.boxes, dtype=np.float64)
        where = f"tracklet {self.track_id}"
        if frames.size == 0:
            raise InvalidDetectionsError(f"{where} has no frames")
        if np.any(np.diff(frames) <= 0):
            raise InvalidDetectionsError(f"{where}: frames must be strictly increasing")
        if boxes.shape != (len(frames), 4) or not np.isfinite(boxes).all():
            raise InvalidDetectionsError(f"{where}: boxes must be finite ({len(frames)}, 4), got {boxes.shape}")
        object.__setattr__(self, "frames", frames)
        object.__setattr__(self, "boxes", boxes)
        if self.keypoints is not None:
            keypoints = np.asarray(self.keypoints, dtype=np.float64)
            if keypoints.ndim != 3 or keypoints.shape[0] != len(frames) or keypoints.shape[2] != 3:
                raise InvalidDetectionsError(f"{where}: keypoints must be ({len(frames)}, K, 3), got {keypoints.shape}")
            object.__setattr__(self, "keypoints", keypoints)
        if self.appearance is not None:
            appearance = np.asarray(self.appearance, dtype=np.float64).reshape(-1)
            object.__setattr__(self, "appearance", appearance if np.isfinite(appearance).all() else None)

    @property
    def first_frame(self) -> int:
        return int(self.frames[0])

    @property
    def last_frame(self) -> int:
        return int(self.frames[-1])


def tracklets_from_rows(frames: Iterable[int], track_ids: Iterable[int], boxes: np.ndarray,
                        keypoints: np.ndarray | None = None,
                        appearances: np.ndarray | None = None) -> list[Tracklet]:
    """Group per-detection rows (one per person per frame) into tracklets by ``track_ids``.

    frames, track_ids: ``(N,)``; boxes ``(N, 4)``; keypoints ``(N, K, 3)``; appearances
    ``(N, B)`` (a NaN row = unknown; a tracklet's appearance is the mean of its known rows).
    A track ID seen twice in one frame raises :class:`InvalidDetectionsError`. Tracklets come
    in order of first frame, then ID.
    """
    frames = np.asarray(list(frames), dtype=np.int64)
    ids = np.asarray(list(track_ids), dtype=np.int64)
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if not len(frames) == len(ids) == len(boxes):
        raise InvalidDetectionsError(f"frames, track_ids and boxes differ in length: "
                                     f"{len(frames)}, {len(ids)}, {len(boxes)}")
    result = []
    for track_id in np.unique(ids):
        rows = np.flatnonzero(ids == track_id)
        rows = rows[np.argsort(frames[rows], kind="stable")]
        if np.any(np.diff(frames[rows]) == 0):
            raise InvalidDetectionsError(f"track {track_id} appears twice in frame "
                                         f"{frames[rows][np.flatnonzero(np.diff(frames[rows]) == 0)[0]]}")
        appearance = None
        if appearances is not None:
            known = np.asarray(appearances, dtype=np.float64)[rows]
            known = known[np.isfinite(known).all(axis=1)]
            appearance = known.mean(axis=0) if len(known) else None
        result.append(Tracklet(int(track_id), frames[rows], boxes[rows],
                               None if keypoints is None else np.asarray(keypoints)[rows], appearance))
    return sorted(result, key=lambda t: (t.first_frame, t.track_id))

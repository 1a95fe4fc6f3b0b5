"""Whole-video track post-processing: record the online tracker's output, then stitch, fill
gaps and smooth each person's track, in that order.

    tracker = Sort(report_unconfirmed=True, ...)      # see tracking.sort
    recorder = TrackRecorder()
    for frame_index, (boxes, scores) in enumerate(video):
        recorder.add(frame_index, tracker.update(boxes, scores))
    rows = recorder.rows()                             # every track that was ever confirmed
    tracklets = tracklets_from_rows(rows.frames, rows.serials, rows.boxes, keypoints, appearances)
    people = finalize_tracks(tracklets, fps=fps)       # PersonTrack per person, IDs 1, 2, ...

Frames are 0-based indexes of the processed sequence; boxes x1, y1, x2, y2 pixels; keypoints
x, y pixels and confidence (0 = missing).
"""
from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tracking.gaps import DEFAULT_MAX_GAP_S, fill_gaps, max_gap_frames
from tracking.smoothing import SmoothingSettings, smooth_boxes, smooth_keypoints
from tracking.sort import TrackedObject
from tracking.stitch import renumber, stitch_tracklets
from tracking.tracklet import Tracklet


@dataclass(frozen=True, eq=False)
class RecordedRows:
    """One row per matched detection of a confirmed track: ``frames``, ``detection_indexes``
    (the row in that frame's detections) and ``serials`` (the track), int64 ``(N,)``; ``boxes``
    float64 ``(N, 4)`` (the tracker's Kalman estimates). In the order they were added."""

    frames: np.ndarray
    detection_indexes: np.ndarray
    serials: np.ndarray
    boxes: np.ndarray


class TrackRecorder:
    """Keeps what a tracker reported, compactly (about 56 bytes per detection).

    Feed it the output of ``Sort(report_unconfirmed=True).update`` for every frame; a track's
    rows from before it was confirmed are kept, and :meth:`rows` returns only the tracks that
    were confirmed at some point (the others were never reported as people)."""

    def __init__(self) -> None:
        self._frames, self._dets, self._serials = array("q"), array("q"), array("q")
        self._boxes = array("d")
        self._confirmed: set[int] = set()

    def add(self, frame: int, objects: Iterable[TrackedObject]) -> None:
        """Record one frame's tracker output (objects without a detection index are skipped)."""
        for obj in objects:
            if obj.detection_index is None:
                continue
            self._frames.append(int(frame))
            self._dets.append(int(obj.detection_index))
            self._serials.append(int(obj.serial))
            self._boxes.extend(float(v) for v in obj.box)
            if obj.track_id is not None:
                self._confirmed.add(int(obj.serial))

    def rows(self) -> RecordedRows:
        serials = np.frombuffer(self._serials, dtype=np.int64) if len(self._serials) else np.empty(0, np.int64)
        keep = np.isin(serials, np.fromiter(self._confirmed, dtype=np.int64, count=len(self._confirmed)))

        def column(values: array, dtype: Any) -> np.ndarray:
            return (np.frombuffer(values, dtype=dtype) if len(values) else np.empty(0, dtype)).copy()

        return RecordedRows(column(self._frames, np.int64)[keep], column(self._dets, np.int64)[keep],
                            serials[keep].copy(), column(self._boxes, np.float64).reshape(-1, 4)[keep])


@dataclass(frozen=True, eq=False)
class PersonTrack:
    """One person over the video after stitching, gap filling and smoothing.

    person_id: 1, 2, ... dense, in order of first appearance.
    tracklet_ids: the ``track_id`` of the tracklets joined into this person, in time order.
    frames: int64 ``(F,)`` strictly increasing; gaps longer than the limit stay gaps.
    boxes: float64 ``(F, 4)`` as observed, linearly filled where ``interpolated``;
    boxes_smoothed: ``(F, 4)`` after box smoothing (equal to ``boxes`` without it).
    keypoints / keypoints_smoothed: float64 ``(F, K, 3)`` raw (filled where flagged) and
        smoothed x, y (confidence as raw); ``None`` when the tracklets had no keypoints.
    interpolated: bool ``(F,)`` frames that were filled; keypoint_interpolated: bool ``(F, K)``.
    cutoff_hz: the Butterworth cut-off used on the keypoints (None: not smoothed / One Euro).
    """

    person_id: int
    tracklet_ids: tuple[int, ...]
    frames: np.ndarray
    boxes: np.ndarray
    boxes_smoothed: np.ndarray
    keypoints: np.ndarray | None
    keypoints_smoothed: np.ndarray | None
    interpolated: np.ndarray
    keypoint_interpolated: np.ndarray | None
    cutoff_hz: float | None


def finalize_tracks(tracklets: Sequence[Tracklet], *, fps: float, stitch: bool | Mapping[str, Any] = True,
                    max_gap_s: float = DEFAULT_MAX_GAP_S, smoothing: SmoothingSettings | None = None,
                    box_smoothing: SmoothingSettings | None = None) -> list[PersonTrack]:
    """Join, fill and smooth ``tracklets`` (see :mod:`tracking.stitch`, :mod:`tracking.gaps`,
    :mod:`tracking.smoothing`); returns one :class:`PersonTrack` per person, by person ID.

    stitch: True (default settings), False (each tracklet is a person), or a mapping of
        :func:`tracking.stitch.stitch_tracklets` keyword arguments.
    max_gap_s: longest gap filled, seconds (0 = none). smoothing: for keypoints (e.g.
        ``smoothing_preset("light")``); box_smoothing: for boxes; None = not smoothed.
    The tracklets must all have keypoints with the same K, or none at all.
    """
    if stitch is False:
        mapping = renumber(tracklets)
    else:
        mapping = stitch_tracklets(tracklets, fps=fps, **({} if stitch is True else dict(stitch)))
    limit = max_gap_frames(max_gap_s, fps)
    people: dict[int, list[Tracklet]] = {}
    for tracklet in sorted(tracklets, key=lambda t: t.first_frame):
        people.setdefault(mapping[tracklet.track_id], []).append(tracklet)
    return [_person(person, parts, fps, limit, smoothing, box_smoothing) for person, parts in sorted(people.items())]


def _person(person: int, parts: list[Tracklet], fps: float, limit: int, smoothing: SmoothingSettings | None,
            box_smoothing: SmoothingSettings | None) -> PersonTrack:
    frames = np.concatenate([t.frames for t in parts])
    boxes = np.concatenate([t.boxes for t in parts])
    with_keypoints = [t.keypoints is not None for t in parts]
    if any(with_keypoints) and not all(with_keypoints):
        raise ValueError(f"person {person}: some of its tracklets have keypoints and some do not")
    keypoints = np.concatenate([t.keypoints for t in parts]) if all(with_keypoints) else None
    filled = fill_gaps(frames, boxes, keypoints, max_gap_frames=limit)
    smoothed_boxes = smooth_boxes(filled.frames, filled.boxes, fps=fps, settings=box_smoothing)
    smoothed = cutoff = None
    if filled.keypoints is not None:
        result = smooth_keypoints(filled.frames, filled.keypoints, fps=fps, settings=smoothing)
        smoothed, cutoff = result.smoothed, result.cutoff_hz
    return PersonTrack(person, tuple(t.track_id for t in parts), filled.frames, filled.boxes, smoothed_boxes,
                       filled.keypoints, smoothed, filled.interpolated, filled.keypoint_interpolated, cutoff)

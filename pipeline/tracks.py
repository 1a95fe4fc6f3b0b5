"""Between the two passes: the online tracklets of a whole video become people.

Input: pass 1's rows (:mod:`pipeline.poselog`, in frame order) whose ``track`` is the online
tracker's tracklet serial (:data:`pipeline.poselog.NO_TRACK` for a detection no tracklet took)
and whose ``box`` is the tracker's box, the serials the tracker confirmed at some point, and each
tracklet's mean appearance vector. Then, per :class:`TrackSettings`:

1. tracklets never confirmed are noise: their rows stay without an ID (drawn grey);
2. stitching (:func:`tracking.stitch_tracklets`) links a tracklet's end to a later one's start;
   without it every confirmed tracklet is a person. IDs are dense from 1 by first appearance;
3. per person (:func:`tracking.offline.finalize_tracks`): gaps up to ``fill_gaps_s`` filled and
   flagged, keypoints smoothed zero-phase (raw kept beside), boxes smoothed at
   :data:`BOX_CUTOFF_HZ` (the MOT export's boxes).

Output: :func:`final_dtype` rows sorted by processed frame, people of a frame best first, written
to a file and memory-mapped. One person's rows are in memory at a time, besides index arrays.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tracking import SmoothingSettings, Tracklet, renumber, smoothing_preset, stitch_tracklets
from tracking.offline import PersonTrack, finalize_tracks
from pipeline.poselog import write_rows

#: Boxes move slowly next to limbs: smoothing them this hard made the PETS09 MOT scores +3 MOTA
#: (bench/track_replay.py).
BOX_CUTOFF_HZ = 1.0
SMOOTHING_CHOICES = ("off", "light", "strong")


def final_dtype(num_parts: int, *, world: bool = False) -> np.dtype:
    """``seq`` (processed frame number), ``frame`` (source index), ``time_s``, ``person`` (final ID,
    0 = none), ``score``, ``box`` (the track's smoothed box, for MOT), ``keypoints`` (smoothed;
    what is drawn), ``keypoints_raw`` (as detected; 0 where interpolated), ``interpolated``
    (the person was not detected in this frame: filled), ``joint_interpolated`` (per keypoint);
    with ``world`` also ``world`` (K x 3 metres as the model gave them, NaN in a filled frame:
    the model smooths them itself, and a hip-centred pose is not interpolated here)."""
    fields = [("seq", "<i4"), ("frame", "<i4"), ("time_s", "<f8"), ("person", "<i4"),
              ("score", "<f4"), ("box", "<f4", (4,)), ("keypoints", "<f4", (num_parts, 3)),
              ("keypoints_raw", "<f4", (num_parts, 3)), ("interpolated", "?"),
              ("joint_interpolated", "?", (num_parts,))]
    return np.dtype(fields + ([("world", "<f4", (num_parts, 3))] if world else []))


@dataclass(frozen=True)
class TrackSettings:
    """stitch: link tracklets offline; fill_gaps_s: the longest gap filled, seconds (0 = none);
    smoothing: "off", "light" or "strong" (:func:`tracking.smoothing_preset`)."""

    stitch: bool = True
    fill_gaps_s: float = 0.5
    smoothing: str = "light"


@dataclass(frozen=True)
class FinalTracks:
    """rows: the final table (memory-mapped); people: IDs issued (1..people); tracklets: online
    tracklets confirmed; interpolated: rows filled in."""

    rows: np.ndarray
    people: int
    tracklets: int
    interpolated: int


def finalize(rows: np.ndarray, *, frame_table: np.ndarray, confirmed: set[int],
             appearance: dict[int, np.ndarray], fps: float, settings: TrackSettings,
             out_path: Path) -> FinalTracks:
    """People from pass 1's rows (see the module docstring). ``frame_table``: one row per processed
    frame (``seq`` is the position) with its source ``frame`` index and ``time_s``."""
    dtype = final_dtype(rows.dtype["keypoints"].shape[0], world="world" in rows.dtype.names)
    serials = np.asarray(rows["track"], dtype=np.int64) if len(rows) else np.zeros(0, np.int64)
    kept = np.isin(serials, np.fromiter(confirmed, dtype=np.int64, count=len(confirmed)))
    order = np.flatnonzero(kept)
    order = order[np.argsort(serials[order], kind="stable")]
    groups = np.split(order, np.flatnonzero(np.diff(serials[order])) + 1) if len(order) else []
    tracklets = [Tracklet(track_id=int(serials[g[0]]), frames=np.asarray(rows["seq"][g]),
                          boxes=np.asarray(rows["box"][g], dtype=np.float64),
                          appearance=appearance.get(int(serials[g[0]])))
                 for g in groups]
    person_of = (stitch_tracklets(tracklets, fps=fps) if settings.stitch and tracklets
                 else renumber(tracklets))
    members: dict[int, list[np.ndarray]] = {}
    for tracklet, group in zip(tracklets, groups):
        members.setdefault(person_of[tracklet.track_id], []).append(group)
    parts = [_untracked(rows[np.flatnonzero(~kept)], dtype)]
    smoothing = smoothing_preset(settings.smoothing)
    for person in sorted(members):
        index = np.sort(np.concatenate(members[person]))
        track = _finish_person(rows[index], fps=fps, settings=settings, smoothing=smoothing)
        parts.append(_person_rows(track, person, frame_table, rows[index], dtype))
    final = np.concatenate(parts)
    final = final[np.lexsort((-final["score"], final["seq"]))]
    return FinalTracks(rows=write_rows(out_path, final), people=len(members), tracklets=len(tracklets),
                       interpolated=int(final["interpolated"].sum()))


def _finish_person(rows: np.ndarray, *, fps: float, settings: TrackSettings,
                   smoothing: SmoothingSettings | None) -> PersonTrack:
    whole = Tracklet(track_id=0, frames=np.asarray(rows["seq"]), boxes=np.asarray(rows["box"], np.float64),
                     keypoints=np.asarray(rows["keypoints"], np.float64))
    (track,) = finalize_tracks([whole], fps=fps, stitch=False, max_gap_s=settings.fill_gaps_s,
                               smoothing=smoothing, box_smoothing=SmoothingSettings(cutoff_hz=BOX_CUTOFF_HZ))
    return track


def _untracked(rows: np.ndarray, dtype: np.dtype) -> np.ndarray:
    out = np.zeros(len(rows), dtype=dtype)
    for name in ("seq", "frame", "time_s", "score", "box", "keypoints", *_world(dtype)):
        out[name] = rows[name]
    out["keypoints_raw"] = rows["keypoints"]
    return out


def _person_rows(track: PersonTrack, person: int, frame_table: np.ndarray, observed: np.ndarray,
                 dtype: np.dtype) -> np.ndarray:
    out = np.zeros(len(track.frames), dtype=dtype)
    out["seq"] = track.frames
    out["frame"] = frame_table["frame"][track.frames]
    out["time_s"] = frame_table["time_s"][track.frames]
    out["person"] = person
    out["score"] = np.interp(track.frames, np.asarray(observed["seq"]), np.asarray(observed["score"], np.float64))
    out["box"] = track.boxes_smoothed
    out["keypoints"] = track.keypoints_smoothed
    raw = track.keypoints.copy()
    raw[track.keypoint_interpolated] = 0.0
    out["keypoints_raw"] = raw
    out["interpolated"] = track.interpolated
    out["joint_interpolated"] = track.keypoint_interpolated
    for name in _world(dtype):
        out[name] = np.nan
        at = np.searchsorted(track.frames, np.asarray(observed["seq"]))
        out[name][at] = observed[name]
    return out


def _world(dtype: np.dtype) -> tuple[str, ...]:
    return ("world",) if "world" in dtype.names else ()

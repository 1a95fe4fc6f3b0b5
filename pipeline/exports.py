"""Keypoint exports, written frame by frame as the video is processed (memory stays flat).

The people's keypoints are those of one :class:`~pose.skeleton.Skeleton` (K parts; the
writers' ``skeleton``, default OpenPose-18). Files (see :func:`export_file_names`):

- ``keypoints.json``: ``{"video": ..., "options": ..., "model": ..., "skeleton": {name, parts,
  limbs, has_world, coco17}, "exports": {"not_produced": {file: why}}, "categories": [...],
  "annotations": [COCO-results-style entries], "summary": {...}}``. Each annotation:
  ``image_id`` (source frame index), ``category_id`` 1, ``track_id`` (null while unconfirmed),
  ``time_s``, ``keypoints`` (51 values: x, y, confidence for the 17 COCO keypoints, the
  skeleton's COCO-17 view, smoothed over the track; 0, 0, 0 when missing), ``keypoints_raw``
  (the same as detected, before smoothing; 0, 0, 0 where nothing was detected), ``parts``
  (K x 3 values: every part of the skeleton, its order, smoothed), ``world`` (skeletons with
  world coordinates only: K x 3 metres x, y, z, hip-centred, as the model gave them; null in a
  filled-in entry), ``interpolated`` (true when the person was not detected in this frame and
  the entry fills a short gap), ``score`` (person score), ``bbox`` ``[x, y, w, h]``
  (whole-person box of ``keypoints``).
- ``keypoints.csv``: tidy long format, one row per visible part of the skeleton:
  ``frame, time_s, track_id, person, joint, x, y, score, x_raw, y_raw, interpolated, world_x,
  world_y, world_z`` (``person`` = rank of the person in its frame, so people without a track ID
  stay distinguishable; ``track_id`` empty when unconfirmed; ``joint`` the part's name; ``x, y``
  smoothed; ``score`` the part's confidence (BlazePose: visibility); ``x_raw, y_raw`` as
  detected, empty where the joint was filled in; ``interpolated`` 1 where the joint was filled
  in, else 0; ``world_*`` metres, empty for a skeleton without world coordinates or a filled-in
  frame).
- ``openpose_json.zip`` (only for a skeleton in OpenPose's own part order,
  ``skeleton.openpose_json``; else ``keypoints.json`` says it was not produced and why): one
  OpenPose-format JSON per frame, ``<stem>_<frame:012d>_keypoints.json`` (the stem cut so that
  every entry's name is at most 255 bytes of UTF-8: ``unzip`` can write it) with ``person_id``
  ``[track_id]`` (``[-1]`` while unconfirmed) and 18 x 3 ``pose_keypoints_2d`` in OpenPose
  (COCO-18) part order.
- ``tracks_mot.txt``: MOTChallenge rows ``frame, id, x, y, w, h, score, -1, -1, -1`` with frame
  = source frame index + 1, confirmed tracks only, the tracker's whole-person box.

All coordinates are source-image pixels.
"""
from __future__ import annotations

import csv
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from filenames import fit_stem, safe_file_name
from pose.skeleton import COCO17_NAMES, OPENPOSE_18, Person, Skeleton

KEYPOINTS_JSON = "keypoints.json"
KEYPOINTS_CSV = "keypoints.csv"
OPENPOSE_ZIP = "openpose_json.zip"
TRACKS_MOT = "tracks_mot.txt"
EXPORT_FILE_NAMES = (KEYPOINTS_JSON, KEYPOINTS_CSV, OPENPOSE_ZIP, TRACKS_MOT)

CSV_COLUMNS = ("frame", "time_s", "track_id", "person", "joint", "x", "y", "score", "x_raw", "y_raw",
               "interpolated", "world_x", "world_y", "world_z")


def export_file_names(skeleton: Skeleton) -> tuple[str, ...]:
    """The exports written for people of ``skeleton`` (OpenPose JSON only for OpenPose's order)."""
    return tuple(n for n in EXPORT_FILE_NAMES if n != OPENPOSE_ZIP or skeleton.openpose_json)


def not_produced(skeleton: Skeleton) -> dict[str, str]:
    """Export file -> why it is not written for ``skeleton``."""
    if skeleton.openpose_json:
        return {}
    return {OPENPOSE_ZIP: f"the {skeleton.name} skeleton's {skeleton.num_parts} parts are not OpenPose's "
                          "18-part order; keypoints.json and keypoints.csv carry every part"}

COCO_SKELETON = (  # 1-based COCO limb list, as in person_keypoints annotations
    (16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7), (6, 8),
    (7, 9), (8, 10), (9, 11), (2, 3), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7),
)


@dataclass(frozen=True, eq=False)
class FramePerson:
    """One person in one frame, as exported.

    person: the skeleton as drawn (smoothed over its track; parts below the keypoint threshold
        already removed).
    box: whole-person box (x1, y1, x2, y2) of ``person``, pixels.
    track_id: the person's ID, or None for a detection no track took.
    track_box: the track's box (x1, y1, x2, y2) for a tracked person, else None.
    raw: the keypoints as detected, float ``(K, 3)`` (zeros where nothing was detected);
        None = the same as ``person.keypoints``.
    interpolated: the person was not detected in this frame; the entry fills a gap.
    joint_interpolated: bool ``(K,)`` per keypoint (None = none).
    """

    person: Person
    box: tuple[float, float, float, float]
    track_id: int | None = None
    track_box: tuple[float, float, float, float] | None = None
    raw: np.ndarray | None = None
    interpolated: bool = False
    joint_interpolated: np.ndarray | None = None

    @property
    def raw_person(self) -> Person:
        return self.person if self.raw is None else Person(keypoints=self.raw, score=self.person.score)

    def joints_interpolated(self) -> np.ndarray:
        """bool ``(K,)``: which parts were filled in."""
        if self.joint_interpolated is None:
            return np.zeros(len(self.person.keypoints), dtype=bool)
        return np.asarray(self.joint_interpolated, dtype=bool)

    def world(self) -> np.ndarray | None:
        """float ``(K, 3)`` metres, or None (no world coordinates, or none in this frame)."""
        world = self.person.world
        return None if world is None or not np.isfinite(world).all() else world


def _r(value: float, digits: int = 2) -> float:
    return round(float(value), digits)


class KeypointsJsonWriter:
    """Streams ``keypoints.json``: the header first, one annotation per person, the summary last."""

    def __init__(self, path: Path, header: Mapping[str, Any], skeleton: Skeleton = OPENPOSE_18) -> None:
        self._file = open(path, "w", encoding="utf-8")
        self._count = 0
        self.skeleton = skeleton
        head = dict(header)
        head.setdefault("skeleton", skeleton.describe())
        head.setdefault("exports", {"not_produced": not_produced(skeleton)})
        head.setdefault("categories", [{
            "id": 1, "name": "person", "supercategory": "person",
            "keypoints": list(COCO17_NAMES), "skeleton": [list(s) for s in COCO_SKELETON],
        }])
        self._file.write(json.dumps(head, indent=1)[:-2] + ',\n "annotations": [')

    def write(self, frame_index: int, time_s: float, people: Sequence[FramePerson]) -> None:
        for fp in people:
            x1, y1, x2, y2 = fp.box
            skeleton = self.skeleton
            entry = {
                "image_id": frame_index, "category_id": 1, "track_id": fp.track_id,
                "time_s": round(time_s, 6), "keypoints": fp.person.coco_keypoints_flat(skeleton),
                "keypoints_raw": fp.raw_person.coco_keypoints_flat(skeleton),
                "parts": [_r(v, 4) for v in np.asarray(fp.person.keypoints).ravel()],
                "interpolated": fp.interpolated, "score": _r(fp.person.score, 4),
                "bbox": [_r(x1), _r(y1), _r(x2 - x1), _r(y2 - y1)],
            }
            if skeleton.has_world:
                world = fp.world()
                entry["world"] = None if world is None else [_r(v, 4) for v in world.ravel()]
            self._file.write(("\n  " if self._count == 0 else ",\n  ") + json.dumps(entry))
            self._count += 1

    def close(self, summary: Mapping[str, Any]) -> None:
        summary = {**summary, "annotation_count": self._count}
        self._file.write('\n ],\n "summary": ' + json.dumps(summary) + "\n}\n")
        self._file.close()

    def abort(self) -> None:
        self._file.close()


class KeypointsCsvWriter:
    """Streams ``keypoints.csv`` (see the module docstring for the columns)."""

    def __init__(self, path: Path, skeleton: Skeleton = OPENPOSE_18) -> None:
        self._file = open(path, "w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._file)
        self._csv.writerow(CSV_COLUMNS)
        self.skeleton = skeleton

    def write(self, frame_index: int, time_s: float, people: Sequence[FramePerson]) -> None:
        time_text = f"{time_s:.6f}"
        no_world = ("", "", "")
        for rank, fp in enumerate(people):
            track = "" if fp.track_id is None else fp.track_id
            world = fp.world()
            joints = zip(self.skeleton.part_names, fp.person.keypoints, fp.raw_person.keypoints,
                         fp.joints_interpolated())
            for part, (name, (x, y, c), (x_raw, y_raw, c_raw), filled) in enumerate(joints):
                if c > 0:
                    raw = (f"{x_raw:.2f}", f"{y_raw:.2f}") if c_raw > 0 else ("", "")
                    metres = no_world if world is None else tuple(f"{v:.4f}" for v in world[part])
                    self._csv.writerow((frame_index, time_text, track, rank, name,
                                        f"{x:.2f}", f"{y:.2f}", f"{c:.4f}", *raw, int(filled), *metres))

    def close(self) -> None:
        self._file.close()


def _entry_name(stem: str, frame_index: int) -> str:
    return f"{stem}_{frame_index:012d}_keypoints.json"


class OpenPoseZipWriter:
    """Streams ``openpose_json.zip``: one OpenPose 1.3 JSON document per frame."""

    def __init__(self, path: Path, *, video_stem: str) -> None:
        self._zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        # The stem is the user's file name: made safe, so '..\\x' cannot become an entry that a
        # Windows unzip writes outside the folder (every caller, `posestudio process` included),
        # and short enough that every entry's name fits a file system's 255 bytes.
        self._stem = fit_stem(safe_file_name(video_stem), room_for=_entry_name("", 0))

    def write(self, frame_index: int, people: Sequence[FramePerson]) -> None:
        doc = {"version": 1.3, "people": [{
            "person_id": [-1 if fp.track_id is None else fp.track_id],
            "pose_keypoints_2d": [_r(v, 4) for v in np.asarray(fp.person.keypoints).ravel()],
            "face_keypoints_2d": [], "hand_left_keypoints_2d": [], "hand_right_keypoints_2d": [],
            "pose_keypoints_3d": [], "face_keypoints_3d": [],
            "hand_left_keypoints_3d": [], "hand_right_keypoints_3d": [],
        } for fp in people]}
        self._zip.writestr(_entry_name(self._stem, frame_index), json.dumps(doc))

    def close(self) -> None:
        self._zip.close()


class MotWriter:
    """Streams ``tracks_mot.txt`` (MOTChallenge results; confirmed tracks only)."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "w", encoding="ascii")

    def write(self, frame_index: int, people: Sequence[FramePerson]) -> None:
        for fp in people:
            if fp.track_id is None:
                continue
            x1, y1, x2, y2 = fp.track_box if fp.track_box is not None else fp.box
            self._file.write(f"{frame_index + 1},{fp.track_id},{x1:.2f},{y1:.2f},{x2 - x1:.2f},"
                             f"{y2 - y1:.2f},{fp.person.score:.4f},-1,-1,-1\n")

    def close(self) -> None:
        self._file.close()


class ExportWriters:
    """The keypoint exports of people of ``skeleton`` in one folder (:func:`export_file_names`);
    ``write_frame`` per frame, ``close`` at the end."""

    def __init__(self, out_dir: Path, *, video_stem: str, header: Mapping[str, Any],
                 skeleton: Skeleton = OPENPOSE_18) -> None:
        out_dir = Path(out_dir)
        self.files = export_file_names(skeleton)
        self._json = KeypointsJsonWriter(out_dir / KEYPOINTS_JSON, header, skeleton)
        self._csv = KeypointsCsvWriter(out_dir / KEYPOINTS_CSV, skeleton)
        self._zip = OpenPoseZipWriter(out_dir / OPENPOSE_ZIP, video_stem=video_stem) if skeleton.openpose_json else None
        self._mot = MotWriter(out_dir / TRACKS_MOT)
        self.frames_written = 0

    def write_frame(self, frame_index: int, time_s: float, people: Sequence[FramePerson]) -> None:
        """people: everyone in source frame ``frame_index`` (at ``time_s`` seconds), best first."""
        self._json.write(frame_index, time_s, people)
        self._csv.write(frame_index, time_s, people)
        if self._zip is not None:
            self._zip.write(frame_index, people)
        self._mot.write(frame_index, people)
        self.frames_written += 1

    def close(self, summary: Mapping[str, Any] | None = None) -> None:
        """Finish every file; ``summary`` goes at the end of keypoints.json."""
        self._json.close({"frames_processed": self.frames_written, **(summary or {})})
        self._csv.close()
        if self._zip is not None:
            self._zip.close()
        self._mot.close()

    def abort(self) -> None:
        """Close the files without finishing them (the caller deletes the folder)."""
        closers = [self._json.abort, self._csv.close, self._mot.close] + ([self._zip.close] if self._zip else [])
        for closer in closers:
            try:
                closer()
            except Exception:  # noqa: BLE001 - best effort while already failing
                pass

"""One camera's 2D people, frame by frame, as the 2D pipeline's ``keypoints.csv`` holds them.

:class:`ViewKeypoints` keeps, for every frame of the view, the people's keypoints **as detected**
(the CSV's ``x_raw, y_raw``: the 3D fusion does its own gap filling and smoothing, in 3D) with
their confidence, and each person's 2D track ID (-1 for a detection that never became a track).
Pixels of the upright frame, x right, y down.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from multiview.errors import MultiviewError


@dataclass(frozen=True, eq=False)
class ViewKeypoints:
    """name: the view's name (its video's file name); fps: frames per second; size: (width,
    height); part_names: the K parts; people: per frame ``(P, K, 3)`` float64 x, y, confidence
    (confidence 0 = not detected); track_ids: per frame ``(P,)`` int64 (-1 = no track)."""

    name: str
    fps: float
    size: tuple[int, int]
    part_names: tuple[str, ...]
    people: tuple[np.ndarray, ...]
    track_ids: tuple[np.ndarray, ...]

    @property
    def frame_count(self) -> int:
        return len(self.people)

    def shifted(self, first: int) -> "ViewKeypoints":
        """The view without its first ``first`` frames (a view that started later; for tests)."""
        return ViewKeypoints(self.name, self.fps, self.size, self.part_names, self.people[first:],
                             self.track_ids[first:])


def read_keypoints_csv(path: Path, *, name: str, fps: float, frame_count: int, size: tuple[int, int],
                       part_names: Sequence[str], smoothed: bool = False) -> ViewKeypoints:
    """The view in the 2D pipeline's ``keypoints.csv`` at ``path`` (columns ``frame, track_id,
    person, joint, score, x_raw, y_raw, interpolated``; filled-in joints are skipped);
    ``smoothed``: the 2D-smoothed ``x, y`` instead of the raw ones."""
    xk, yk = ("x", "y") if smoothed else ("x_raw", "y_raw")
    index = {p: i for i, p in enumerate(part_names)}
    k = len(part_names)
    found: dict[tuple[int, int], np.ndarray] = {}
    tracks: dict[tuple[int, int], int] = {}
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row["interpolated"] == "1" or row["x_raw"] == "" or row["joint"] not in index:
                    continue
                frame = int(row["frame"])
                if not 0 <= frame < frame_count:
                    continue
                key = (frame, int(row["person"]))
                person = found.setdefault(key, np.zeros((k, 3)))
                person[index[row["joint"]]] = (float(row[xk]), float(row[yk]), float(row["score"]))
                tracks[key] = int(row["track_id"]) if row["track_id"] else -1
    except (OSError, KeyError, ValueError) as exc:
        raise MultiviewError(f"{name}: its 2D keypoints ({Path(path).name}) cannot be read: {exc}") from None
    people = [[] for _ in range(frame_count)]
    ids = [[] for _ in range(frame_count)]
    for (frame, _), person in sorted(found.items()):
        people[frame].append(person)
        ids[frame].append(tracks[(frame, _)])
    return ViewKeypoints(name, float(fps), (int(size[0]), int(size[1])), tuple(part_names),
                         tuple(np.array(p, dtype=np.float64).reshape(-1, k, 3) for p in people),
                         tuple(np.array(i, dtype=np.int64) for i in ids))

"""Angles drawn on the annotated video (the ``overlay_angles`` option; off by default).

At each chosen joint of each tracked person: an arc between the two segments the angle is
measured on, and the value in degrees beside it; and a small panel per person (their track ID
and the current value of each chosen angle) at the top of their box, in the style of Sports2D.
Sizes follow the picture's height (a 480p and a 4K video read alike) and each person's size
(the arc's radius).

The values are the exported ones (the smoothed degrees of ``people/person_<id>.json``, mirrored
as the exports are), read once before the video is drawn: the picture says what the files say.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from analysis.angles import BY_NAME, JOINT
from analysis.points import MID_HIP, points_xy
from pipeline.frames import FramePerson, track_color

#: Text height as a fraction of the picture's height (about 13 px at 480p, 58 px at 4K for
#: the panel's lines).
TEXT_FRACTION = 0.027
#: The arc's radius as a fraction of the person's torso length in the picture.
ARC_FRACTION = 0.3


def short_label(name: str) -> str:
    """``right_knee`` -> ``R knee``."""
    side, _, joint = name.partition("_")
    return f"{side[0].upper()} {joint}" if joint and side in ("right", "left") else name.replace("_", " ")


class AngleOverlay:
    """Draws the chosen joint angles of the people in a frame. ``values``: (track ID, source frame)
    -> {angle: degrees}; ``names``: the joint angles to draw; ``part_names``: the skeleton."""

    def __init__(self, values: dict[tuple[int, int], dict[str, float]], names: Sequence[str],
                 part_names: Sequence[str]) -> None:
        self.values = values
        self.names = [n for n in names if BY_NAME[n].kind == JOINT]
        self.part_names = tuple(part_names)

    @classmethod
    def from_exports(cls, out_dir: Path, names: Sequence[str] | None, part_names: Sequence[str]) -> "AngleOverlay":
        """Read the smoothed values from the people files ``write_people_exports`` wrote into
        ``out_dir``; ``names`` None: every joint angle exported."""
        document = json.loads((Path(out_dir) / "people.json").read_text(encoding="utf-8"))
        exported = [a["name"] for a in document["angles"]]
        chosen = [n for n in (exported if names is None else names) if n in exported]
        values: dict[tuple[int, int], dict[str, float]] = {}
        for person in document["people"]:
            series = json.loads((Path(out_dir) / person["files"]["series"]).read_text(encoding="utf-8"))
            for i, frame in enumerate(series["frame"]):
                entry = {n: series["angles"][n]["smoothed"][i] for n in chosen
                         if series["angles"][n]["smoothed"][i] is not None}
                if entry:
                    values[(person["id"], frame)] = entry
        return cls(values, chosen, part_names)

    def draw(self, image: np.ndarray, frame_index: int, people: Sequence[FramePerson]) -> np.ndarray:
        """Draw on ``image`` (BGR, in place) and return it."""
        height = image.shape[0]
        scale = max(0.35, TEXT_FRACTION * height / 22.0)  # cv2's HERSHEY_SIMPLEX is ~22 px at scale 1
        thick = max(1, int(round(height / 400)))
        for person in people:
            if person.track_id is None:
                continue
            values = self.values.get((person.track_id, frame_index))
            if not values:
                continue
            color = track_color(person.track_id)
            points = points_xy(np.asarray(person.person.keypoints, np.float64)[None], self.part_names)
            torso = _torso(points)
            for name in self.names:
                if name in values:
                    self._arc(image, name, values[name], points, torso, color, scale, thick)
            self._panel(image, person, values, color, scale, thick)
        return image

    def _arc(self, image: np.ndarray, name: str, value: float, points: dict[str, np.ndarray], torso: float,
             color: tuple[int, int, int], scale: float, thick: int) -> None:
        where = BY_NAME[name].points
        coords = [points.get(p, np.full((1, 2), np.nan))[0] for p in where]
        if not all(np.isfinite(c).all() for c in coords):
            return
        # The arc spans the flexion: from the proximal segment carried on through the joint
        # (where a straight limb would point: 0 degrees) to the distal segment.
        if len(coords) == 3:  # knee (ankle, knee, hip), elbow (wrist, elbow, shoulder)
            vertex, u, v = coords[1], coords[1] - coords[2], coords[0] - coords[1]
        else:  # hip, shoulder: the trunk carried down (neck -> mid-hip) at the joint, and the limb
            vertex, u, v = coords[1], coords[2] - coords[3], coords[0] - coords[1]
        radius = max(6, int(ARC_FRACTION * torso)) if math.isfinite(torso) else 20
        a = math.degrees(math.atan2(u[1], u[0]))
        b = math.degrees(math.atan2(v[1], v[0]))
        sweep = (b - a + 180.0) % 360.0 - 180.0  # the short way
        centre = (int(round(vertex[0])), int(round(vertex[1])))
        # The filled wedge, blended in the arc's square only (not a copy of the whole picture).
        x0, y0 = max(0, centre[0] - radius - 1), max(0, centre[1] - radius - 1)
        x1, y1 = min(image.shape[1], centre[0] + radius + 2), min(image.shape[0], centre[1] + radius + 2)
        if x1 > x0 and y1 > y0:
            region = image[y0:y1, x0:x1]
            wedge = region.copy()
            cv2.ellipse(wedge, (centre[0] - x0, centre[1] - y0), (radius, radius), 0.0, a, a + sweep, color, -1,
                        cv2.LINE_AA)
            cv2.addWeighted(wedge, 0.35, region, 0.65, 0, dst=region)
        cv2.ellipse(image, centre, (radius, radius), 0.0, a, a + sweep, color, thick, cv2.LINE_AA)
        # The value beyond the arc's middle, at least two text heights from the joint.
        mid = math.radians(a + sweep / 2)
        text = f"{value:.0f}"
        away = max(radius * 1.3, 44.0 * scale)
        at = (int(vertex[0] + math.cos(mid) * away), int(vertex[1] + math.sin(mid) * away))
        _text(image, text, at, 0.8 * scale, thick, color, centred=True)

    def _panel(self, image: np.ndarray, person: FramePerson, values: dict[str, float], color: tuple[int, int, int],
               scale: float, thick: int) -> None:
        lines = [f"{person.track_id}"] + [f"{short_label(n)} {values[n]:.0f}" for n in self.names if n in values]
        keypoints = np.asarray(person.person.keypoints)
        seen = keypoints[keypoints[:, 2] > 0, :2]
        if not len(seen):
            return
        (w, h), base = cv2.getTextSize("R shoulder -180", cv2.FONT_HERSHEY_SIMPLEX, 0.7 * scale, thick)
        line_h = h + base + 2 * thick
        x = int(max(0, min(seen[:, 0].max() + line_h, image.shape[1] - w - 2 * line_h)))
        y = int(max(0, min(seen[:, 1].min(), image.shape[0] - line_h * len(lines) - 4)))
        box = image[y:y + line_h * len(lines) + 4, x:x + w + 2 * thick + 8]
        box[:] = (box * 0.35).astype(image.dtype)  # a dark backing: legible over any picture
        cv2.rectangle(image, (x, y), (x + w + 2 * thick + 8, y + line_h * len(lines) + 4), color, thick)
        for k, line in enumerate(lines):
            _text(image, line, (x + 4 + thick, y + (k + 1) * line_h - base), 0.7 * scale, thick,
                  color if k == 0 else (255, 255, 255))


def _torso(points: dict[str, np.ndarray]) -> float:
    if "neck" in points and MID_HIP in points:
        length = float(np.linalg.norm(points["neck"][0] - points[MID_HIP][0]))
        return length if math.isfinite(length) else math.nan
    return math.nan


def _text(image: np.ndarray, text: str, at: tuple[int, int], scale: float, thick: int,
          color: tuple[int, int, int], *, centred: bool = False) -> None:
    """White-on-dark (or coloured) text with a dark outline, legible on any background."""
    if centred:
        (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        at = (at[0] - w // 2, at[1] + h // 2)
    cv2.putText(image, text, at, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick + 2 * max(1, thick // 2) + 1,
                cv2.LINE_AA)
    cv2.putText(image, text, at, cv2.FONT_HERSHEY_SIMPLEX, scale, color, thick, cv2.LINE_AA)

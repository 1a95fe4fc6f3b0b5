"""Per-frame work of pass 2: final people -> drawing -> exports and screenshots.

Runs in one thread, frame after frame, in order. The people come from the final track table
(:mod:`pipeline.tracks`): IDs, smoothed keypoints, raw keypoints and interpolation flags.
"""
from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pose import OPENPOSE_18, Person, Skeleton, SkeletonAnnotator
from pose.boxes import whole_person_box
from videoio import Frame, write_jpeg
from pipeline.exports import ExportWriters, FramePerson
from pipeline.options import PipelineOptions

SCREENSHOTS_DIR = "screenshots"
POSTER_NAME = "poster.jpg"
POSTER_WINDOW_S = 30.0  # the poster is the frame with most people within the first 30 s
PALETTE_SIZE = 32


def track_color(track_id: int) -> tuple[int, int, int]:
    """A stable, distinct BGR colour for a track ID (golden-ratio hues, saturated, bright)."""
    hue = ((track_id - 1) % PALETTE_SIZE) * 0.618033988749895 % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, 0.95)
    return int(b * 255), int(g * 255), int(r * 255)


def screenshot_name(time_s: float) -> str:
    """``t0000005.000s.jpg`` for a frame at 5 s: names sort by time."""
    return f"t{max(time_s, 0.0):011.3f}s.jpg"


@dataclass
class FrameStats:
    frames: int = 0
    detections: int = 0
    screenshots: int = 0
    screenshots_skipped: int = 0  # due, but over max_screenshots


def frame_people(rows: np.ndarray, skeleton: Skeleton = OPENPOSE_18) -> list[FramePerson]:
    """One frame's rows of the final track table (:func:`pipeline.tracks.final_dtype`) of people
    with ``skeleton``'s parts, as the exports and the drawing take them, best first as the rows are."""
    people = []
    has_world = "world" in rows.dtype.names
    for row in rows:
        person_id = int(row["person"])
        person = Person(keypoints=np.array(row["keypoints"], dtype=np.float32), score=float(row["score"]),
                        world=np.array(row["world"], dtype=np.float32) if has_world else None)
        people.append(FramePerson(
            person=person, box=tuple(float(v) for v in whole_person_box(person.keypoints, skeleton=skeleton)),
            track_id=person_id or None,
            track_box=tuple(float(v) for v in row["box"]) if person_id else None,
            raw=np.array(row["keypoints_raw"], dtype=np.float32), interpolated=bool(row["interpolated"]),
            joint_interpolated=np.array(row["joint_interpolated"], dtype=bool)))
    return people


class FrameProcessor:
    """Draws and exports one frame at a time; owns the exports and screenshots.

    max_screenshots: write at most this many periodic screenshots (None = no limit); the ones due
        after that are counted in ``stats.screenshots_skipped``.
    With ``options.keypoints_only`` nothing is drawn and there is no screenshots folder: use
    :meth:`write` alone. skeleton: what the people's keypoints are (default OpenPose-18).
    """

    def __init__(self, out_dir: Path, options: PipelineOptions, exports: ExportWriters, *, start_s: float,
                 max_screenshots: int | None = None, skeleton: Skeleton = OPENPOSE_18) -> None:
        self.out_dir = out_dir
        self.options = options
        self.max_screenshots = max_screenshots
        self.exports = exports
        self.skeleton = skeleton
        self.annotator = SkeletonAnnotator(color_by="person", skeleton=self.skeleton)  # one colour per track ID
        self.stats = FrameStats()
        self._start_s = start_s
        self._next_shot_s = start_s
        self._poster: np.ndarray | None = None
        self._poster_people = -1
        self._poster_until_s = start_s + POSTER_WINDOW_S
        if not options.keypoints_only:
            (out_dir / SCREENSHOTS_DIR).mkdir()
        self.overlay = None
        overlay_names = options.overlay_angle_names()
        if overlay_names != () and not options.keypoints_only:
            from pipeline.angle_overlay import AngleOverlay  # reads the people files written before

            self.overlay = AngleOverlay.from_exports(out_dir, overlay_names, skeleton.part_names)

    def write(self, frame_index: int, time_s: float, people: list[FramePerson]) -> None:
        """Write one frame's exports (all that ``keypoints_only`` keeps)."""
        self.exports.write_frame(frame_index, time_s, people)
        self.stats.frames += 1
        self.stats.detections += sum(not p.interpolated for p in people)

    def process(self, frame: Frame, people: list[FramePerson]) -> np.ndarray:
        """Returns the annotated image for ``frame`` and writes its exports and screenshot."""
        self.write(frame.index, frame.time_s, people)
        labels = [None if p.track_id is None else str(p.track_id) for p in people]
        colors = [None if p.track_id is None else track_color(p.track_id) for p in people]
        image = self.annotator.annotate(frame.image, [p.person for p in people], labels=labels, colors=colors,
                                        skeleton_only=self.options.skeleton_only)
        if self.overlay is not None:
            image = self.overlay.draw(image, frame.index, people)
        self._screenshots(frame.time_s, image, len(people))
        return image

    def _screenshots(self, time_s: float, image: np.ndarray, people: int) -> None:
        interval = self.options.screenshot_interval_s
        if interval > 0 and time_s >= self._next_shot_s - 1e-6:
            if self.max_screenshots is None or self.stats.screenshots < self.max_screenshots:
                write_jpeg(self.out_dir / SCREENSHOTS_DIR / screenshot_name(time_s), image)
                self.stats.screenshots += 1
            else:
                self.stats.screenshots_skipped += 1
            # The first multiple of the interval after this frame, in one step: stepping by the
            # interval would crawl (or never get there) for a tiny one, which the options allow.
            periods = (time_s + 1e-6 - self._start_s) // interval + 1
            self._next_shot_s = self._start_s + periods * interval if math.isfinite(periods) else time_s
        if time_s < self._poster_until_s and people > self._poster_people:
            self._poster, self._poster_people = image, people  # the image is not modified later

    def finish(self) -> None:
        """Write the poster (the frame with most people early in the video)."""
        if self._poster is not None:
            write_jpeg(self.out_dir / SCREENSHOTS_DIR / POSTER_NAME, self._poster)

"""Per-frame work after inference: people -> whole-person boxes -> SORT IDs -> drawing -> exports.

Runs in one thread (the tracker is sequential by nature), frame after frame, in order.
"""
from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pose import Person, SkeletonAnnotator
from pose.boxes import whole_person_box
from tracking import Sort
from videoio import Frame, write_jpeg
from workers.exports import ExportWriters, FramePerson
from workers.options import PipelineOptions

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


def keep_confident(persons: list[Person], *, keypoint_threshold: float, max_people: int | None) -> list[Person]:
    """Drop parts below ``keypoint_threshold`` (and people left with none); keep the best
    ``max_people``. ``persons`` come ranked best first (PoseEstimator's order), which this keeps."""
    kept: list[Person] = []
    for person in persons:
        if keypoint_threshold > 0:
            keypoints = person.keypoints.copy()
            keypoints[keypoints[:, 2] < keypoint_threshold] = 0.0
            person = Person(keypoints=keypoints, score=person.score)
        if person.num_parts:
            kept.append(person)
    return kept if max_people is None else kept[:max_people]


@dataclass
class FrameStats:
    frames: int = 0
    detections: int = 0
    max_track_id: int = 0
    screenshots: int = 0
    screenshots_skipped: int = 0  # due, but over max_screenshots


class FrameProcessor:
    """Tracks, draws and exports one frame at a time; owns the tracker, exports and screenshots.

    max_screenshots: write at most this many periodic screenshots (None = no limit); the ones due
        after that are counted in ``stats.screenshots_skipped``.
    With ``options.keypoints_only`` nothing is drawn and no image is written: :meth:`process`
    writes the exports and returns None, and there is no screenshots folder.
    """

    def __init__(self, out_dir: Path, options: PipelineOptions, exports: ExportWriters, *, start_s: float,
                 max_screenshots: int | None = None) -> None:
        self.out_dir = out_dir
        self.options = options
        self.max_screenshots = max_screenshots
        self.exports = exports
        self.tracker = Sort(max_age=options.max_age, min_hits=options.min_hits, iou_threshold=options.iou_threshold)
        self.annotator = SkeletonAnnotator(color_by="person")  # one colour per track ID
        self.stats = FrameStats()
        self._start_s = start_s
        self._next_shot_s = start_s
        self._poster: np.ndarray | None = None
        self._poster_people = -1
        self._poster_until_s = start_s + POSTER_WINDOW_S
        if not options.keypoints_only:
            (out_dir / SCREENSHOTS_DIR).mkdir()

    def process(self, frame: Frame, persons: list[Person]) -> np.ndarray | None:
        """Returns the annotated image for ``frame`` (None with ``keypoints_only``) and writes its
        exports and screenshot."""
        opts = self.options
        persons = keep_confident(persons, keypoint_threshold=opts.keypoint_threshold, max_people=opts.max_people)
        people = self._track(persons)
        self.exports.write_frame(frame.index, frame.time_s, people)
        self.stats.frames += 1
        self.stats.detections += len(people)
        if opts.keypoints_only:
            return None
        labels = [None if p.track_id is None else str(p.track_id) for p in people]
        colors = [None if p.track_id is None else track_color(p.track_id) for p in people]
        image = self.annotator.annotate(frame.image, persons, labels=labels, colors=colors,
                                        skeleton_only=opts.skeleton_only)
        self._screenshots(frame.time_s, image, len(people))
        return image

    def _track(self, persons: list[Person]) -> list[FramePerson]:
        boxes = np.array([whole_person_box(p.keypoints) for p in persons], dtype=np.float64).reshape(-1, 4)
        scores = np.array([p.score for p in persons], dtype=np.float64)
        ids: dict[int, tuple[int, np.ndarray]] = {}
        for obj in self.tracker.update(boxes, scores):
            if obj.detection_index is not None:
                ids[obj.detection_index] = (obj.track_id, obj.box)
                self.stats.max_track_id = max(self.stats.max_track_id, obj.track_id)
        people = []
        for index, person in enumerate(persons):
            track_id, track_box = ids.get(index, (None, None))
            people.append(FramePerson(
                person=person, box=tuple(float(v) for v in boxes[index]), track_id=track_id,
                track_box=None if track_box is None else tuple(float(v) for v in track_box),
            ))
        return people

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

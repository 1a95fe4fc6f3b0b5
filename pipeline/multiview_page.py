"""What a multi-view job's page shows, made once by the worker from the finished outputs of
:func:`pipeline.multiview.process_views` (no Flask, no Celery):

- ``overlays/<view>.jpg``: per camera (``<view>``: its folder under ``views/``), one frame of its video with every person's 3D skeleton
  projected into it through the calibration (lens distortion included): the frame of the time
  line where the most 3D points are, so that every view shows the same moment. Drawn here rather
  than in the browser, where the projection with distortion and the frame matching would have to
  be done again in JavaScript.
- ``overlays/<view>/<frame>.jpg``: the same at up to :data:`MOMENTS` moments spread over the
  time-line frames that have people in 3D (``<frame>``: the time-line frame), so that the page's
  grid can follow the 3D scene's time.
- ``scene.json``: every person's 3D parts per time-line frame for the page's 3D viewer:
  ``{fps, units, up, parts, limbs, step, frames: [[{person, points: [[x, y, z] | null, ...]}]],
  angles}``, at most :data:`MAX_SCENE_FRAMES` frames (``step``: time-line frames per scene
  frame). ``angles`` holds the 3D angle curves on the same frames, from ``angles_3d.csv``:
  ``{names: [{name, label, zero, positive}], people: [{person, degrees: {name: [deg | null]}}]}``.
"""
from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from multiview.calibration import read_calibration
from multiview.angles3d import ANGLE_NAMES, describe
from multiview.exports import ANGLES_3D_CSV, KEYPOINTS_3D_CSV
from pose.models import MODEL_SKELETONS

OVERLAYS_DIR = "overlays"
SCENE_JSON = "scene.json"
#: Widest overlay image (px): the page shows up to 8 in a grid.
OVERLAY_WIDTH = 540
#: Most frames in scene.json (longer time lines are sampled evenly).
MAX_SCENE_FRAMES = 3000
#: Moments drawn per camera for the grid that follows the scene (besides the main overlay).
MOMENTS = 8
COLORS = ((0, 200, 255), (255, 120, 0), (80, 220, 80), (220, 80, 220), (0, 80, 255), (255, 220, 0))


def limbs_for(part_names: Sequence[str]) -> list[tuple[int, int]]:
    """The drawn limbs of the model whose parts these are (none if no model names them so)."""
    for skeleton in MODEL_SKELETONS.values():
        if tuple(skeleton.part_names) == tuple(part_names):
            return [tuple(limb) for limb in skeleton.limbs]
    return []


def read_points(out_dir: Path, part_names: Sequence[str]) -> dict[int, dict[int, np.ndarray]]:
    """keypoints_3d.csv as {frame: {person: (K, 3) metres, NaN where missing}}."""
    index = {name: k for k, name in enumerate(part_names)}
    frames: dict[int, dict[int, np.ndarray]] = defaultdict(dict)
    with open(out_dir / KEYPOINTS_3D_CSV, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            people = frames[int(row["frame"])]
            person = int(row["person"])
            if person not in people:
                people[person] = np.full((len(part_names), 3), np.nan)
            people[person][index[row["joint"]]] = (float(row["x_m"]), float(row["y_m"]), float(row["z_m"]))
    return frames


def write_page_files(out_dir: Path, videos: Sequence[Path], *, pictures: bool = True) -> dict:
    """Write the overlays and scene.json into ``out_dir`` (the finished outputs; ``videos`` in
    the order of multiview.json's cameras); return ``{"overlays": {camera: file | None},
    "moments": {camera: [[time-line frame, file], ...]}, "scene": file, "overlay_frame": frame}``.

    Files are named after the view's folder (``views/<stem>``, made safe and unique by the
    pipeline), never after a camera's name, which the uploaded calibration chooses. A camera is
    drawn only at the moments its video shows (a camera started late has none before it started).
    ``pictures=False`` (a keypoints-only job, which keeps no picture of anyone) draws the
    skeletons on black instead of on the video's frames."""
    out_dir = Path(out_dir)
    summary = json.loads((out_dir / "multiview.json").read_text(encoding="utf-8"))
    parts = summary["part_names"]
    limbs = limbs_for(parts)
    frames = read_points(out_dir, parts)
    _write_scene(out_dir / SCENE_JSON, frames, summary, parts, limbs)
    cameras = {c.name: c for c in read_calibration(out_dir / "calibration.toml")}
    entries = summary["cameras"]
    start = min(c["offset"]["offset_frames"] for c in entries)
    counts = [_frame_count(Path(video)) for video in videos]

    def view_frame(k: int, frame: int) -> int | None:  # camera k's own frame at a time-line frame, if it has one
        f = frame + start - entries[k]["offset"]["offset_frames"]
        return f if 0 <= f and (counts[k] is None or f < counts[k]) else None

    def points_at(frame: int) -> int:
        return sum(int(np.isfinite(p[:, 0]).sum()) for p in frames[frame].values())

    seen_by_all = [f for f in frames if all(view_frame(k, f) is not None for k in range(len(entries)))]
    best = max(seen_by_all or frames, key=points_at, default=None)
    shown = sorted(([best] if best is not None else []) + moments_of(frames, best))  # in time order: one pass
    overlays, moments = {}, {}
    for k, (entry, video) in enumerate(zip(entries, videos)):
        stem, camera = entry["folder"].rsplit("/", 1)[-1], cameras[entry["name"]]
        drawn = []
        with _Pictures(Path(video), camera.size, pictures) as source:
            for frame in shown:
                own = view_frame(k, frame)
                image = None if own is None else source.read(own)
                if image is None:
                    continue
                for person, points in sorted(frames[frame].items()):
                    _draw(image, camera.project(points), limbs, COLORS[person % len(COLORS)], person)
                file = f"{OVERLAYS_DIR}/{stem}.jpg" if frame == best else f"{OVERLAYS_DIR}/{stem}/{frame}.jpg"
                if _write_jpeg(out_dir / file, image):
                    drawn.append([frame, file])
            main = next((file for frame, file in drawn if frame == best), None)
            if not drawn:  # nobody in 3D while this camera filmed: its first frame, so the grid shows every camera
                image = source.read(0)
                if image is not None and _write_jpeg(out_dir / OVERLAYS_DIR / f"{stem}.jpg", image):
                    main = f"{OVERLAYS_DIR}/{stem}.jpg"
                    drawn.append([0, main])
        overlays[entry["name"]] = main
        moments[entry["name"]] = drawn
    return {"overlays": overlays, "moments": moments, "scene": SCENE_JSON, "overlay_frame": best}


def moments_of(frames: dict[int, dict[int, np.ndarray]], best: int | None, count: int = MOMENTS) -> list[int]:
    """Up to ``count`` time-line frames with people in 3D, evenly spread from the first to the
    last such frame, in order, without ``best``."""
    with_people = sorted(f for f, people in frames.items() if people and f != best)
    if len(with_people) <= count:
        return with_people
    picks = np.linspace(0, len(with_people) - 1, count).round().astype(int)
    return [with_people[i] for i in sorted(set(picks.tolist()))]


def _write_jpeg(path: Path, image: np.ndarray) -> bool:
    """Write ``image`` at most :data:`OVERLAY_WIDTH` wide; False when it could not be written."""
    scale = min(1.0, OVERLAY_WIDTH / image.shape[1])
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    path.parent.mkdir(parents=True, exist_ok=True)
    return bool(cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 85]))


class _Pictures:
    """One video's frames by index through one open capture (a seek only where the next frame
    read is not the one wanted), or black of the calibrated ``size`` (width, height) when no
    picture of anyone may be kept (``pictures`` False). A context manager."""

    def __init__(self, video: Path, size: tuple[int, int], pictures: bool) -> None:
        self._size = size
        self._capture = cv2.VideoCapture(str(video)) if pictures else None
        self._next = 0

    def read(self, index: int) -> np.ndarray | None:
        """Frame ``index``, or None if it cannot be read."""
        if self._capture is None:
            return np.zeros((self._size[1], self._size[0], 3), np.uint8)
        if index != self._next:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, image = self._capture.read()
        self._next = index + 1
        return image if ok else None

    def __enter__(self) -> "_Pictures":
        return self

    def __exit__(self, *_exc) -> None:
        if self._capture is not None:
            self._capture.release()


def _frame_count(video: Path) -> int | None:
    capture = cv2.VideoCapture(str(video))
    try:
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        return count if count > 0 else None
    finally:
        capture.release()


def _draw(image: np.ndarray, pixels: np.ndarray, limbs, color, person: int) -> None:
    width = max(2, image.shape[1] // 200)
    for a, b in limbs:
        p, q = pixels[a], pixels[b]
        if np.isfinite(p).all() and np.isfinite(q).all():
            cv2.line(image, (int(p[0]), int(p[1])), (int(q[0]), int(q[1])), color, width, cv2.LINE_AA)
    shown = pixels[np.isfinite(pixels).all(axis=1)]
    for x, y in shown:
        cv2.circle(image, (int(x), int(y)), width + 2, color, -1, cv2.LINE_AA)
    if len(shown):
        x, y = shown[:, 0].min(), shown[:, 1].min()
        cv2.putText(image, f"#{person}", (int(x), max(20, int(y) - 10)), cv2.FONT_HERSHEY_SIMPLEX,
                    image.shape[1] / 600, color, width, cv2.LINE_AA)


def read_angle_curves(path: Path, *, count: int, step: int) -> dict:
    """``angles_3d.csv`` on the scene's frames (time-line frames 0, step, 2 step ... < count):
    ``{names: [describe(name)], people: [{person, degrees: {name: [deg | null]}}]}``; empty
    lists when the file is absent (no angle could be measured)."""
    curves: dict[int, dict[str, list]] = {}
    names: list[str] = []
    if path.exists():
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                frame, name = int(row["frame"]), row["angle"]
                if frame % step or frame >= count:
                    continue
                if name not in names:
                    names.append(name)
                person = curves.setdefault(int(row["person"]), {})
                person.setdefault(name, [None] * -(-count // step))[frame // step] = round(float(row["degrees"]), 1)
    names.sort(key=lambda name: ANGLE_NAMES.index(name) if name in ANGLE_NAMES else len(ANGLE_NAMES))
    return {"names": [describe(name) for name in names],
            "people": [{"person": person, "degrees": degrees} for person, degrees in sorted(curves.items())]}


def _write_scene(path: Path, frames, summary: dict, parts, limbs) -> None:
    count = summary["frames"]
    step = max(1, -(-count // MAX_SCENE_FRAMES))
    scene = [[{"person": person, "points": [None if not np.isfinite(p).all() else [round(float(v), 4) for v in p]
                                            for p in points]}
              for person, points in sorted(frames.get(f, {}).items())] for f in range(0, count, step)]
    angles = read_angle_curves(path.parent / ANGLES_3D_CSV, count=count, step=step)
    path.write_text(json.dumps({"fps": summary["fps"] / step, "units": "m", "up": "+Z", "parts": list(parts),
                                "limbs": [list(limb) for limb in limbs], "step": step, "frames": scene,
                                "angles": angles}),
                    encoding="utf-8")

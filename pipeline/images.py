"""The photo pipeline: a list of photos in, one output folder out (no Flask, no Celery).

Each photo is read upright (``pose.photos``: EXIF orientation applied, first frame of a GIF),
run through the job's model and quality, and drawn as a video frame is. A photo that cannot be
read is reported by name (``warnings``) and the others are processed; a job none of whose
photos could be read fails. Tracking, smoothing and the video options do not apply.

Written into ``out_dir`` (elsewhere first, moved into place when complete):

- ``images/<nnnn>_<name>.jpg``: each photo with its skeletons (not with ``keypoints_only``);
- ``keypoints.json``: the options, model and skeleton, ``images`` (per photo in upload order:
  ``file_name``, size, ``people``, ``annotated``, ``error``) and ``annotations``, COCO-results
  style keyed by the photo's file name (``image_id`` = ``file_name``), each with its 17 COCO
  keypoints, ``parts`` (every part of the skeleton), ``score``, whole-person ``bbox``
  ([x, y, w, h]) and ``angles`` (degrees by name, null where not measurable);
- ``keypoints.csv``: ``image, person, joint, x, y, score``, one row per visible part;
- ``angles.csv``: ``image, person, angle, degrees``;
- ``openpose_json.zip`` (OpenPose only): ``<nnnn>_<name>_keypoints.json`` per photo.

Coordinates are pixels of the upright photo; ``person`` is the rank in the photo (0 = best).
"""
from __future__ import annotations

import csv
import json
import shutil
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np

from analysis.angles import compute_angles, parse_angle_option
from config import ResourceLimits
from filenames import fit_stem, safe_file_name
from pose import COCO17_NAMES, Person, PoseError, SkeletonAnnotator
from pose.boxes import whole_person_box
from pose.errors import InvalidImageError
from pose.photos import read_photo
from pipeline.analyse import keep_confident
from pipeline.exports import COCO_SKELETON, KEYPOINTS_CSV, KEYPOINTS_JSON, OPENPOSE_ZIP
from pipeline.options import PipelineOptions
from pipeline.people_exports import ANGLES_CSV
from pipeline.video import PipelineCancelled, Progress, header_model, move_into_place, pipeline_estimator

IMAGES_DIR = "images"
#: Export file name -> its key in a job's ``outputs`` (as a video job's).
IMAGE_OUTPUT_KEYS = {KEYPOINTS_JSON: "keypoints_json", KEYPOINTS_CSV: "csv", ANGLES_CSV: "angles_csv",
                     OPENPOSE_ZIP: "openpose_zip"}
JPEG_QUALITY = 90


@dataclass(frozen=True)
class PhotoInput:
    """One uploaded photo: ``name`` as its owner named it (unique in the job), ``path`` where it
    is stored."""

    name: str
    path: Path


@dataclass
class ImagesResult:
    """What :func:`process_images` wrote: ``files`` (export names present), ``annotated``
    (per photo in order: its annotated image's path relative to the folder, or None),
    ``people`` (per photo, None where it could not be read), ``warnings`` (one per bad photo,
    naming it) and ``timings``."""

    out_dir: Path
    files: list[str]
    annotated: list[str | None]
    people: list[int | None]
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def detections(self) -> int:
        return sum(n or 0 for n in self.people)


def process_images(photos: list[PhotoInput], out_dir: Path, options: PipelineOptions, *, backend: Any,
                   on_progress: Callable[[Progress], None] | None = None,
                   should_cancel: Callable[[], bool] | None = None,
                   limits: ResourceLimits = ResourceLimits()) -> ImagesResult:
    """Process ``photos`` into ``out_dir`` with ``options`` (model, backend, quality, network
    size, drawing and threshold options; tracking and video options are ignored) on the loaded
    ``backend`` (``pipeline.video.load_pipeline_backend``).

    Raises InvalidImageError when no photo could be read (the message lists why, by name),
    PipelineCancelled, ValueError for over ``limits.max_images``; bad single photos become
    ``warnings``.
    """
    if limits.max_images is not None and len(photos) > limits.max_images:
        raise ValueError(f"{len(photos):,} images in one job, over the limit of {limits.max_images:,} (MAX_IMAGES)")
    if not photos:
        raise InvalidImageError("no images to process")
    options = _fixed_height(options)
    estimator = pipeline_estimator(options, backend)
    skeleton = estimator.skeleton
    angle_names = parse_angle_option(options.angles, skeleton.part_names)
    annotator = SkeletonAnnotator(skeleton=skeleton)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = out_dir.parent / f".{out_dir.name}.partial-{uuid.uuid4().hex[:12]}"
    (work / IMAGES_DIR).mkdir(parents=True)
    started = time.perf_counter()
    try:
        records, annotations, warnings = [], [], []
        with _Writers(work, skeleton) as writers:
            for index, photo in enumerate(photos):
                if should_cancel is not None and should_cancel():
                    raise PipelineCancelled("processing the images was cancelled")
                if on_progress is not None:
                    on_progress(_progress(index, len(photos), started))
                record, people = _one(index, photo, estimator, options, limits, annotator, work, warnings)
                records.append(record)
                for rank, person in enumerate(people or ()):
                    entry = _annotation(photo.name, rank, person, skeleton, record, angle_names)
                    annotations.append(entry)
                    writers.write(photo.name, rank, person, entry["angles"])
                if people is not None and skeleton.openpose_json:
                    writers.openpose(index, photo.name, people)
        if not any(r["error"] is None for r in records):
            raise InvalidImageError("none of the images could be read: " + "; ".join(warnings))
        doc = {"kind": "images", **header_model(options, estimator), "categories": [{
            "id": 1, "name": "person", "supercategory": "person", "keypoints": list(COCO17_NAMES),
            "skeleton": [list(s) for s in COCO_SKELETON]}], "images": records, "annotations": annotations,
            "warnings": warnings}
        (work / KEYPOINTS_JSON).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        if options.keypoints_only:
            shutil.rmtree(work / IMAGES_DIR)
        files = [KEYPOINTS_JSON, KEYPOINTS_CSV, ANGLES_CSV] + ([OPENPOSE_ZIP] if skeleton.openpose_json else [])
        if on_progress is not None:
            on_progress(_progress(len(photos), len(photos), started, stage="finalizing"))
        move_into_place(work, out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    elapsed = time.perf_counter() - started
    return ImagesResult(out_dir=out_dir, files=files, annotated=[r["annotated"] for r in records],
                        people=[r["people"] for r in records], warnings=warnings,
                        timings={"elapsed_s": round(elapsed, 3),
                                 "images_per_s": round(len(photos) / elapsed, 3) if elapsed > 0 else 0.0})


def _fixed_height(options: PipelineOptions) -> PipelineOptions:
    """"auto" samples video frames for the people's size; a photo uses the base height."""
    from dataclasses import replace

    from pipeline.options import AUTO_NET_HEIGHT
    from pose.input_size import BASE_NET_HEIGHT

    return replace(options, net_height=BASE_NET_HEIGHT) if options.net_height == AUTO_NET_HEIGHT else options


def _one(index: int, photo: PhotoInput, estimator: Any, options: PipelineOptions, limits: ResourceLimits,
         annotator: SkeletonAnnotator, work: Path, warnings: list[str]) -> tuple[dict[str, Any], list[Person] | None]:
    """One photo's record for keypoints.json and its people (None after a warning)."""
    record: dict[str, Any] = {"id": index + 1, "file_name": photo.name, "width": None, "height": None,
                              "people": None, "annotated": None, "error": None}
    try:
        image = read_photo(photo.path.read_bytes(), name=photo.name, max_pixels=limits.max_image_pixels)
        people = keep_confident(estimator.estimate(image), keypoint_threshold=options.keypoint_threshold,
                                max_people=options.max_people)
    except (PoseError, OSError) as exc:
        message = str(exc) if isinstance(exc, PoseError) else f"{photo.name}: cannot be read ({exc.strerror or exc})"
        record["error"] = message
        warnings.append(message)
        return record, None
    record.update(width=int(image.shape[1]), height=int(image.shape[0]), people=len(people))
    if not options.keypoints_only:
        name = f"{IMAGES_DIR}/{index + 1:04d}_{fit_stem(Path(safe_file_name(photo.name, 'image')).stem, room_for='_0000.jpg')}.jpg"
        drawn = annotator.annotate(image, people, labels=[str(r + 1) for r in range(len(people))],
                                   skeleton_only=options.skeleton_only)
        if not cv2.imwrite(str(work / name), drawn, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
            raise OSError(f"could not write {name}")
        record["annotated"] = name
    return record, people


def _annotation(name: str, rank: int, person: Person, skeleton: Any, record: dict[str, Any],
                angle_names: tuple[str, ...] | None) -> dict[str, Any]:
    size = (record["width"], record["height"])
    x1, y1, x2, y2 = whole_person_box(person.keypoints, image_size=size, skeleton=skeleton)
    series = compute_angles(np.asarray(person.keypoints, np.float64)[None], skeleton.part_names,
                            names=angle_names, foreshortened=0.0)
    angles = {n: (None if not np.isfinite(v) else round(float(v), 2)) for n, v in zip(series.names, series.degrees[0])}
    return {"image_id": name, "file_name": name, "category_id": 1, "person": rank,
            "keypoints": person.coco_keypoints_flat(skeleton),
            "parts": [round(float(v), 4) for v in np.asarray(person.keypoints).ravel()],
            "score": round(float(person.score), 4),
            "bbox": [round(float(v), 2) for v in (x1, y1, x2 - x1, y2 - y1)], "angles": angles}


class _Writers:
    """keypoints.csv, angles.csv and openpose_json.zip, streamed."""

    def __init__(self, folder: Path, skeleton: Any) -> None:
        self.folder, self.skeleton = folder, skeleton

    def __enter__(self) -> "_Writers":
        self._kp_file = open(self.folder / KEYPOINTS_CSV, "w", encoding="utf-8", newline="")
        self._angles_file = open(self.folder / ANGLES_CSV, "w", encoding="utf-8", newline="")
        self.keypoints, self.angles = csv.writer(self._kp_file), csv.writer(self._angles_file)
        self.keypoints.writerow(("image", "person", "joint", "x", "y", "score"))
        self.angles.writerow(("image", "person", "angle", "degrees"))
        self.zip = (zipfile.ZipFile(self.folder / OPENPOSE_ZIP, "w", compression=zipfile.ZIP_DEFLATED)
                    if self.skeleton.openpose_json else None)
        return self

    def write(self, name: str, rank: int, person: Person, angles: dict[str, float | None]) -> None:
        for joint, (x, y, c) in zip(self.skeleton.part_names, person.keypoints):
            if c > 0:
                self.keypoints.writerow((name, rank, joint, f"{x:.2f}", f"{y:.2f}", f"{c:.4f}"))
        for angle, degrees in angles.items():
            if degrees is not None:
                self.angles.writerow((name, rank, angle, f"{degrees:.2f}"))

    def openpose(self, index: int, name: str, people: list[Person]) -> None:
        stem = fit_stem(Path(safe_file_name(name, "image")).stem, room_for="_0000_keypoints.json")
        doc = {"version": 1.3, "people": [{
            "person_id": [-1], "pose_keypoints_2d": [round(float(v), 4) for v in np.asarray(p.keypoints).ravel()],
            "face_keypoints_2d": [], "hand_left_keypoints_2d": [], "hand_right_keypoints_2d": [],
            "pose_keypoints_3d": [], "face_keypoints_3d": [], "hand_left_keypoints_3d": [],
            "hand_right_keypoints_3d": []} for p in people]}
        self.zip.writestr(f"{index + 1:04d}_{stem}_keypoints.json", json.dumps(doc))

    def __exit__(self, *exc: object) -> None:
        self._kp_file.close()
        self._angles_file.close()
        if self.zip is not None:
            self.zip.close()


def _progress(done: int, total: int, started: float, *, stage: str = "analysing") -> Progress:
    elapsed = time.perf_counter() - started
    rate = done / elapsed if elapsed > 0 and done else 0.0
    eta = (total - done) / rate if rate > 0 else None
    return Progress(stage=stage, frames_done=done, frames_total=total, fps=round(rate, 3), eta_s=eta,
                    fraction=done / total if total else 1.0)

"""Per-person results, written once the tracks are final: angles, OpenSim files, page data.

The pipeline calls :func:`write_people_exports` once, after ``pipeline.tracks.finalize`` and
before (or beside) rendering, with the final rows (``pipeline.tracks.final_dtype``). Per person
(``person`` > 0; untracked rows are skipped), over the frames they are in:

1. left/right limb swaps are found on the keypoints as detected (``keypoints_raw``) and undone
   (:func:`analysis.correct_limb_swaps`). The smoothed keypoints were smoothed before that, so
   they follow the detector's labels averaged over a few frames: they are undone where most of
   the :data:`SWAP_WINDOW_S` around a frame was swapped (:func:`analysis.majority`), and a lone
   swapped frame (smoothed away already) is left. Every frame whose labels were exchanged, in
   either, is flagged ``swapped``. (Undoing the swaps before smoothing, in ``pipeline.tracks``,
   would make this step unnecessary.)
2. facing (:mod:`analysis.facing`: left, right, frontal, back, per stretch of time) from the
   smoothed keypoints, or the user's override for the person (:mod:`pipeline.people_facing`);
3. angles (:mod:`analysis.angles`, Sports2D's conventions) from the smoothed keypoints
   ("degrees") and from the raw ones ("degrees_raw"), mirrored alike (only facing left).

Files (names relative to ``out_dir``; ``<id>`` is the track ID):

- ``angles.csv``: tidy, one row per person, frame and angle with a value:
  ``frame, time_s, track_id, angle, degrees, interpolated, degrees_raw, swapped`` (``frame``:
  source frame index; ``degrees`` from the smoothed keypoints, ``degrees_raw`` from the
  detected ones, empty where missing; ``interpolated`` 1 where the person or a point the angle
  needs was filled in; ``swapped`` 1 where a limb the angle uses had its labels exchanged;
  ``facing``: left, right, frontal or back; ``less_reliable`` 1 where the angle needs a side
  view and the person faces the camera or away from it).
  Ordered by track ID, frame, then angle.
- ``people/person_<id>_angles.csv``: that person's rows of ``angles.csv``.
- ``people/person_<id>_angles.mot``: OpenSim motion file of the smoothed angles (degrees), one
  row per processed frame from the person's first to last (NaN where they were not seen).
- ``people/person_<id>_keypoints.trc``: the smoothed (swap-corrected) keypoints as one marker
  per part of the skeleton, named by its ``marker_names`` (OpenPose-18: as OpenPose names them,
  Nose, Neck, RShoulder, ...; BlazePose: LHeel, RFootIndex, ...), z = 0: pixels as in the image
  (x right, y down), or metres with ``person_height_m`` (origin at the image's bottom-left
  corner, y up, as OpenSim's ground).
- ``people/person_<id>.json``: the person's series for the web page: ``time_s``, ``frame``,
  ``interpolated``, ``facing``, ``swapped`` (per limb pair), ``angles`` {name: {``smoothed``,
  ``raw``}} (degrees, 1 decimal, null = missing), and for a skeleton with world coordinates
  ``world``: per frame K x 3 metres (x, y, z flat, mm precision, swaps undone) or null.
- ``people.json``: what the people list shows (see :func:`people_document`); each person's
  ``reps``: their automatic angle, reps counted and partial ones (:mod:`pipeline.people_reps`).
- ``reps.csv``: each person's repetitions of their automatic angle (:mod:`pipeline.people_reps`);
  the series JSON has ``reps`` for every joint angle.
- ``people/person_<id>_rows.npy``: the person's final rows, to derive their angles again
  (a facing override, :mod:`pipeline.people_facing`).

Memory: one person's rows at a time besides index arrays; the CSV is written as it goes.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from analysis import (
    BY_NAME, align_branches, angle_parts, compute_angles, correct_limb_swaps, exchange, height_in_pixels,
    majority, resolve_angle_names, unavailable_angles, write_mot, write_trc,
)
from analysis.angles import SEGMENT
from analysis.facing import BACK, FACING_CODES, FACING_NAMES, FRONTAL, facing_states, mirror_signs
from analysis.swaps import pair_parts
from pose.skeleton import OPENPOSE_18, Skeleton
from pipeline.people_data import PersonData, person_summary, series_document
from pipeline.people_reps import REPS_CSV, REPS_CSV_COLUMNS, person_reps, reps_document, reps_lines, reps_summary

ANGLES_CSV = "angles.csv"
PEOPLE_JSON = "people.json"
PEOPLE_DIR = "people"
ANGLES_CSV_COLUMNS = ("frame", "time_s", "track_id", "angle", "degrees", "interpolated", "degrees_raw",
                      "swapped", "facing", "less_reliable")
#: The smoothed keypoints follow the swaps that hold most of this window (see the module docstring).
SWAP_WINDOW_S = 0.25
#: A new facing direction must hold this long to count (no flicker).
FACING_MIN_RUN_S = 0.2
#: Frames further apart than this (and 2 frames) are not compared for swaps.
SWAP_MAX_GAP_S = 0.1
#: A person's known height must lie in this range, metres.
PERSON_HEIGHT_RANGE_M = (0.3, 3.0)


def person_files(track_id: int) -> dict[str, str]:
    """The files of one person, by kind (``series``, ``csv``, ``mot``, ``trc``, ``rows``: their
    final rows as a NumPy file, to derive the angles again, e.g. with a facing override)."""
    stem = f"{PEOPLE_DIR}/person_{track_id}"
    return {"series": f"{stem}.json", "csv": f"{stem}_angles.csv", "mot": f"{stem}_angles.mot",
            "trc": f"{stem}_keypoints.trc", "rows": f"{stem}_rows.npy"}


@dataclass(frozen=True)
class PeopleExports:
    """What :func:`write_people_exports` wrote. ``files``: every file, relative to ``out_dir``;
    ``top_level``: the ones a job's outputs list (``angles.csv``, ``people.json``); ``people``:
    the per-person summaries of ``people.json``; ``calibration``: None, or how pixels became
    metres; ``warnings``: what could not be done (e.g. a height that could not be estimated)."""

    files: tuple[str, ...]
    top_level: tuple[str, ...]
    angle_names: tuple[str, ...]
    people: tuple[dict[str, Any], ...]
    calibration: dict[str, Any] | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)


def write_people_exports(final_rows: np.ndarray, *, fps: float, video: dict[str, Any], out_dir: Path,
                         start_s: float = 0.0, angle_names: Sequence[str] | None = None,
                         person_height_m: float | None = None,
                         skeleton: Skeleton = OPENPOSE_18) -> PeopleExports:
    """Write the per-person files (see the module docstring) into ``out_dir``.

    final_rows: ``pipeline.tracks.final_dtype`` rows sorted by ``seq`` (memory-mapped is fine).
    fps: processed frames per second (the video's rate / frame stride). video: the video's
    metadata (``width`` and ``height`` used). start_s: the processed range's start (time 0 of
    the annotated video). angle_names: which angles (None = every one the skeleton gives).
    person_height_m: the height of the person seen longest, to give positions in metres.
    skeleton: what the rows' keypoints are (default OpenPose-18).
    Raises ValueError (``analysis.AngleNameError``) for a bad angle name or height.
    """
    part_names = skeleton.part_names
    names = resolve_angle_names(angle_names, part_names)
    if person_height_m is not None and not (PERSON_HEIGHT_RANGE_M[0] <= person_height_m <= PERSON_HEIGHT_RANGE_M[1]):
        low, high = PERSON_HEIGHT_RANGE_M
        raise ValueError(f"person_height_m must be between {low} and {high} metres, got {person_height_m!r}")
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be > 0, got {fps!r}")
    out_dir = Path(out_dir)
    (out_dir / PEOPLE_DIR).mkdir(parents=True, exist_ok=True)
    clock = _Clock(final_rows)
    groups = _person_rows(final_rows)
    calibration, warnings = _calibration(final_rows, groups, person_height_m, part_names, video)
    files: list[str] = [ANGLES_CSV, PEOPLE_JSON, REPS_CSV]
    summaries: list[dict[str, Any]] = []
    with open(out_dir / ANGLES_CSV, "w", encoding="utf-8", newline="") as csv_all, \
            open(out_dir / REPS_CSV, "w", encoding="utf-8", newline="") as reps_all:
        csv_all.write(",".join(ANGLES_CSV_COLUMNS) + "\n")
        reps_all.write(",".join(REPS_CSV_COLUMNS) + "\n")
        for track_id, index in groups:
            rows = np.asarray(final_rows[index])
            data = analyse_person(rows, track_id, names=names, fps=fps, part_names=part_names)
            paths = person_files(track_id)
            np.save(out_dir / paths["rows"], rows, allow_pickle=False)
            written = write_person_files(data, paths, out_dir, start_s=start_s)
            csv_all.writelines(written.angle_lines)
            reps_all.writelines(written.reps_lines)
            _write_opensim(data, paths, out_dir, clock, skeleton, calibration, video)
            files.extend(paths.values())
            summaries.append({**person_summary(data, files=paths, fps=fps, calibration=calibration,
                                               part_names=part_names), "reps": written.reps})
    document = people_document(summaries, names=names, fps=fps, start_s=start_s, video=video,
                               calibration=calibration, skeleton=skeleton)
    (out_dir / PEOPLE_JSON).write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")
    return PeopleExports(files=tuple(files), top_level=(ANGLES_CSV, PEOPLE_JSON, REPS_CSV), angle_names=names,
                         people=tuple(summaries), calibration=calibration, warnings=tuple(warnings))


@dataclass(frozen=True)
class PersonWritten:
    """What :func:`write_person_files` wrote for one person: their rows of ``angles.csv`` and
    ``reps.csv``, and their reps' summary for ``people.json``."""

    angle_lines: list[str]
    reps_lines: list[str]
    reps: dict[str, Any]


def write_person_files(data: PersonData, paths: dict[str, str], out_dir: Path, *, start_s: float) -> PersonWritten:
    """Write the person's angles CSV and their series JSON (with their reps) and return their
    rows of the top-level files (the .mot and .trc: :func:`_write_opensim`)."""
    lines = _csv_lines(data)
    with open(out_dir / paths["csv"], "w", encoding="utf-8", newline="") as own:
        own.write(",".join(ANGLES_CSV_COLUMNS) + "\n")
        own.writelines(lines)
    reps = person_reps(data)
    series = series_document(data, start_s=start_s)
    series["reps"] = reps_document(data, reps)
    (out_dir / paths["series"]).write_text(json.dumps(series, separators=(",", ":")), encoding="utf-8")
    return PersonWritten(angle_lines=lines, reps_lines=reps_lines(data, reps), reps=reps_summary(data, reps))


def people_document(summaries: list[dict[str, Any]], *, names: Sequence[str], fps: float, start_s: float,
                    video: dict[str, Any], calibration: dict[str, Any] | None,
                    skeleton: Skeleton = OPENPOSE_18) -> dict[str, Any]:
    """``people.json``: ``fps``, ``start_s`` (subtract it from ``time_s`` for the annotated
    video's time), ``video`` {width, height}, ``angles`` (each one's name, label, kind, zero,
    positive direction and range), ``unavailable`` (angle -> why), ``calibration``, ``skeleton``
    (its name and whether it has world coordinates), ``parts`` and ``limbs`` (the skeleton, to
    draw a person's ``pose``) and ``people`` (summaries: see
    :func:`pipeline.people_data.person_summary`)."""
    part_names = skeleton.part_names
    return {
        "version": 1, "fps": fps, "start_s": start_s,
        "video": {"width": int(video["width"]), "height": int(video["height"])},
        "skeleton": {"name": skeleton.name, "has_world": skeleton.has_world},
        "parts": list(part_names), "limbs": [list(limb) for limb in skeleton.limbs],
        "angles": [{"name": n, "label": BY_NAME[n].label, "kind": BY_NAME[n].kind, "zero": BY_NAME[n].zero,
                    "positive": BY_NAME[n].positive, "range": list(BY_NAME[n].range_deg)} for n in names],
        "unavailable": unavailable_angles(part_names),
        "calibration": calibration,
        "people": summaries,
    }


def analyse_person(rows: np.ndarray, track_id: int, *, names: Sequence[str], fps: float,
                   part_names: Sequence[str], facing: str | None = None) -> PersonData:
    """One person's rows (sorted by ``seq``) -> swaps undone, facing, angles raw and smoothed.

    facing: None decides frame by frame (:mod:`analysis.facing`); ``left``, ``right``,
    ``frontal`` or ``back``: the user's override, for every frame."""
    seq = np.asarray(rows["seq"], dtype=np.int64)
    raw = np.asarray(rows["keypoints_raw"], dtype=np.float64)
    smooth = np.asarray(rows["keypoints"], dtype=np.float64)
    swaps = correct_limb_swaps(raw, part_names, frames=seq, max_gap=max(2, round(SWAP_MAX_GAP_S * fps)))
    followed = {pair: majority(mask, round(SWAP_WINDOW_S * fps)) for pair, mask in swaps.swapped.items()}
    smooth = exchange(smooth, followed, part_names)
    if facing is None:
        states = facing_states(smooth, part_names, fps=fps, min_run=max(1, round(FACING_MIN_RUN_S * fps)))
    elif facing in FACING_CODES:
        states = np.full(len(seq), FACING_CODES[facing], dtype=np.int8)
    else:
        raise ValueError(f"facing must be one of {', '.join(FACING_CODES)} (or automatic), got {facing!r}")
    signs = mirror_signs(states)
    smoothed = compute_angles(smooth, part_names, names=names, facing=signs)
    detected = compute_angles(swaps.keypoints, part_names, names=names, facing=signs)
    degrees_raw = np.column_stack([align_branches(detected.degrees[:, i], smoothed.degrees[:, i],
                                                  BY_NAME[n].period_deg) if BY_NAME[n].kind == SEGMENT
                                   else detected.degrees[:, i] for i, n in enumerate(names)])
    # Every frame whose labels were exchanged, in the raw keypoints or the smoothed ones.
    exchanged = {pair: swaps.swapped[pair] | followed[pair] for pair in swaps.swapped}
    joint_filled = np.asarray(rows["joint_interpolated"], dtype=bool)
    person_filled = np.asarray(rows["interpolated"], dtype=bool)
    index = {name: i for i, name in enumerate(part_names)}
    interpolated = np.column_stack([person_filled | joint_filled[:, [index[p] for p in angle_parts(n, part_names)]].any(axis=1)
                                    for n in names]) if names else np.zeros((len(rows), 0), bool)
    swapped = (np.column_stack([_angle_swapped(n, exchanged, part_names) for n in names]) if names
               else interpolated)
    world = (exchange(np.asarray(rows["world"], dtype=np.float64), swaps.swapped, part_names)
             if "world" in rows.dtype.names else None)
    return PersonData(track_id=track_id, seq=seq, frame=np.asarray(rows["frame"], dtype=np.int64),
                      time_s=np.asarray(rows["time_s"], dtype=np.float64), score=np.asarray(rows["score"]),
                      box=np.asarray(rows["box"], dtype=np.float64), keypoints=smooth, keypoints_raw=raw,
                      interpolated=person_filled, names=tuple(names), degrees=smoothed.degrees,
                      degrees_raw=degrees_raw, angle_interpolated=interpolated, angle_swapped=swapped,
                      facing=states, swapped=exchanged, world=world,
                      facing_source="auto" if facing is None else "override")


def _angle_swapped(name: str, swapped: dict[str, np.ndarray], part_names: Sequence[str]) -> np.ndarray:
    parts = set(angle_parts(name, part_names))
    masks = [mask for pair, mask in swapped.items() if parts & set(sum(pair_parts(pair, part_names), ()))]
    return np.logical_or.reduce(masks) if masks else np.zeros(len(next(iter(swapped.values()))), bool)


def _person_rows(rows: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(track ID, row indexes in seq order) per person, by ID."""
    people = np.asarray(rows["person"]) if len(rows) else np.zeros(0, np.int32)
    tracked = np.flatnonzero(people > 0)
    order = tracked[np.argsort(people[tracked], kind="stable")]
    if not len(order):
        return []
    cuts = np.flatnonzero(np.diff(people[order])) + 1
    return [(int(people[g[0]]), g) for g in np.split(order, cuts)]


class _Clock:
    """Processed frame number (``seq``) -> time, for every frame between two that have rows."""

    def __init__(self, rows: np.ndarray) -> None:
        seq = np.asarray(rows["seq"], dtype=np.int64)
        first = np.concatenate([[True], np.diff(seq) != 0])[: len(seq)]
        self.seq = seq[first]
        self.time_s = np.asarray(rows["time_s"], dtype=np.float64)[first]

    def times(self, seqs: np.ndarray) -> np.ndarray:
        return np.interp(seqs, self.seq, self.time_s)


def _csv_lines(data: PersonData) -> list[str]:
    lines = []
    for i in range(len(data.seq)):
        head = f"{data.frame[i]},{data.time_s[i]:.6f},{data.track_id},"
        facing = FACING_NAMES[int(data.facing[i])]
        head_on = int(data.facing[i]) in (FRONTAL, BACK)
        for a, name in enumerate(data.names):
            value, raw = data.degrees[i, a], data.degrees_raw[i, a]
            if math.isfinite(value) or math.isfinite(raw):
                lines.append(f"{head}{name},{_cell(value)},{int(data.angle_interpolated[i, a])},{_cell(raw)},"
                             f"{int(data.angle_swapped[i, a])},{facing},"
                             f"{int(head_on and BY_NAME[name].needs_side_view)}\n")
    return lines


def _cell(value: float) -> str:
    return f"{value:.2f}" if math.isfinite(value) else ""


def _write_opensim(data: PersonData, paths: dict[str, str], out_dir: Path, clock: _Clock,
                   skeleton: Skeleton, calibration: dict[str, Any] | None, video: dict[str, Any]) -> None:
    part_names = skeleton.part_names
    every = np.arange(data.seq[0], data.seq[-1] + 1)
    times = clock.times(every)
    at = np.searchsorted(every, data.seq)
    angles = np.full((len(every), len(data.names)), np.nan)
    angles[at] = data.degrees
    write_mot(out_dir / paths["mot"], times_s=times, columns=data.names, values=angles,
              name=f"person_{data.track_id}_angles",
              notes=("Joint and segment angles with Sports2D's conventions (Pose Studio people.json lists them).",))
    xyz = np.full((len(every), len(part_names), 3), np.nan)
    seen = data.keypoints[..., 2] > 0
    xy = np.where(seen[..., None], data.keypoints[..., :2], np.nan)
    units = "px"
    if calibration and calibration.get("metres_per_pixel"):
        scale = calibration["metres_per_pixel"]
        xy = np.stack([xy[..., 0] * scale, (float(video["height"]) - xy[..., 1]) * scale], axis=-1)
        units = "m"
    xyz[at, :, :2] = xy
    xyz[at, :, 2] = np.where(seen, 0.0, np.nan)
    write_trc(out_dir / paths["trc"], frame_numbers=every + 1, times_s=times,
              markers=list(skeleton.marker_names), positions=xyz,
              rate_hz=_rate(times), units=units, digits=5 if units == "m" else 2)


def _rate(times: np.ndarray) -> float:
    steps = np.diff(times)
    return float(1.0 / np.median(steps)) if len(steps) and np.median(steps) > 0 else 0.0


def _calibration(rows: np.ndarray, groups: list[tuple[int, np.ndarray]], height_m: float | None,
                 part_names: Sequence[str], video: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """Metres per pixel from the person seen in the most frames, whose height is ``height_m``."""
    if height_m is None:
        return None, []
    if not groups:
        return None, ["person_height_m: nobody was tracked, so positions stay in pixels"]
    track_id, index = max(groups, key=lambda g: (len(g[1]), -g[0]))
    pixels = height_in_pixels(np.asarray(rows["keypoints"][index]), part_names)
    if not (math.isfinite(pixels) and pixels > 0):
        return None, [f"person_height_m: person {track_id}'s legs and trunk were never all seen, so their "
                      "height in pixels is unknown; positions stay in pixels"]
    return {"person": track_id, "height_m": height_m, "height_px": round(pixels, 1),
            "metres_per_pixel": height_m / pixels,
            "origin": "bottom-left corner of the image; x right, y up (metres)",
            "method": "shank + thigh + trunk medians / 0.779 of standing height (Winter 2009)"}, []

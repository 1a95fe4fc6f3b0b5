"""One person's analysed track, and the JSON the web page reads about it.

:class:`PersonData` is what :func:`pipeline.people_exports.analyse_person` computes; the functions
here turn it into plain JSON values (NaN -> null, rounded) for ``people.json`` and
``people/person_<id>.json``, so that the web app serves files and never loads numpy.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from analysis.facing import FACING_NAMES, facing_names

#: Box samples per second of a person's track in people.json (the page crops thumbnails from a
#: screenshot with the box nearest the screenshot's time).
BOX_SAMPLES_PER_S = 4


@dataclass(frozen=True, eq=False)
class PersonData:
    """One person over the F frames they are in. ``seq``, ``frame``, ``time_s``, ``score``,
    ``interpolated`` ``(F,)``; ``box`` ``(F, 4)``; ``keypoints`` (smoothed, swaps undone) and
    ``keypoints_raw`` (as detected) ``(F, K, 3)``; ``degrees`` / ``degrees_raw`` ``(F, A)`` for
    ``names``; ``angle_interpolated`` / ``angle_swapped`` bool ``(F, A)``; ``facing`` int8
    ``(F,)`` states (:mod:`analysis.facing` codes), ``facing_source`` "auto" or "override"; ``swapped``: limb pair -> bool ``(F,)``; ``world``: None, or float ``(F, K, 3)``
    metres (swaps undone; NaN in a frame without), for a skeleton with world coordinates."""

    track_id: int
    seq: np.ndarray
    frame: np.ndarray
    time_s: np.ndarray
    score: np.ndarray
    box: np.ndarray
    keypoints: np.ndarray
    keypoints_raw: np.ndarray
    interpolated: np.ndarray
    names: tuple[str, ...]
    degrees: np.ndarray
    degrees_raw: np.ndarray
    angle_interpolated: np.ndarray
    angle_swapped: np.ndarray
    facing: np.ndarray
    swapped: dict[str, np.ndarray]
    world: np.ndarray | None = None
    facing_source: str = "auto"


def json_numbers(values: np.ndarray, digits: int) -> list:
    """Rounded floats, None where not finite."""
    values = np.asarray(values, dtype=np.float64)
    out = np.round(values, digits).astype(object)
    out[~np.isfinite(values)] = None
    return out.tolist()


def _rounded(value: float, digits: int = 2) -> float | None:
    return round(float(value), digits) if math.isfinite(value) else None


def angle_summary(values: np.ndarray) -> dict[str, Any]:
    """min, max, range, mean (degrees, 2 decimals) and ``frames`` with a value."""
    defined = np.asarray(values, dtype=np.float64)
    defined = defined[np.isfinite(defined)]
    if not len(defined):
        return {"min": None, "max": None, "range": None, "mean": None, "frames": 0}
    low, high = float(defined.min()), float(defined.max())
    return {"min": _rounded(low), "max": _rounded(high), "range": _rounded(high - low),
            "mean": _rounded(float(defined.mean())), "frames": int(len(defined))}


def spans(seq: np.ndarray, time_s: np.ndarray, fps: float) -> list[list[float]]:
    """[start_s, end_s] of each stretch of consecutive frames (end = last frame + one frame)."""
    if not len(seq):
        return []
    breaks = np.flatnonzero(np.diff(seq) > 1)
    starts = np.concatenate([[0], breaks + 1])
    stops = np.concatenate([breaks, [len(seq) - 1]])
    return [[round(float(time_s[a]), 4), round(float(time_s[b]) + 1.0 / fps, 4)] for a, b in zip(starts, stops)]


def box_samples(data: PersonData, fps: float) -> list[list[float]]:
    """[time_s, x1, y1, x2, y2] about :data:`BOX_SAMPLES_PER_S` times a second (and the last)."""
    step = max(1, int(round(fps / BOX_SAMPLES_PER_S)))
    picks = np.unique(np.concatenate([np.arange(0, len(data.seq), step), [len(data.seq) - 1]]))
    return [[round(float(data.time_s[i]), 4), *(round(float(v), 1) for v in data.box[i])] for i in picks]


def representative_pose(data: PersonData) -> dict[str, Any]:
    """The frame where most parts were detected (best score among those): its time, box and
    smoothed keypoints ([x, y] or null per part), for a silhouette when no picture shows them."""
    seen = (data.keypoints_raw[..., 2] > 0).sum(axis=1)
    best = int(np.lexsort((-np.asarray(data.score, np.float64), -seen))[0])
    points = [[round(float(x), 1), round(float(y), 1)] if c > 0 else None for x, y, c in data.keypoints[best]]
    return {"time_s": round(float(data.time_s[best]), 4), "box": [round(float(v), 1) for v in data.box[best]],
            "keypoints": points}


def _speed(data: PersonData, calibration: dict[str, Any] | None, part_names: Sequence[str]) -> dict[str, Any] | None:
    names = list(part_names)
    if not {"right_hip", "left_hip"} <= set(names) or len(data.seq) < 2:
        return None
    hips = data.keypoints[:, [names.index("right_hip"), names.index("left_hip")]]
    centre = np.where((hips[..., 2] > 0).all(axis=1)[:, None], hips[..., :2].mean(axis=1), np.nan)
    scale, unit = (calibration["metres_per_pixel"], "m/s") if calibration else (1.0, "px/s")
    step = np.diff(data.seq) == 1
    speed = np.linalg.norm(np.diff(centre, axis=0), axis=1) * scale / np.diff(data.time_s)
    speed = speed[step & np.isfinite(speed)]
    if not len(speed):
        return None
    return {"mean": _rounded(float(speed.mean()), 3), "p95": _rounded(float(np.percentile(speed, 95)), 3),
            "unit": unit}


def facing_runs(data: PersonData) -> list[list]:
    """[start_s, end_s, facing] of each stretch of one facing state (end = last frame's time)."""
    states = np.asarray(data.facing)
    if not len(states):
        return []
    cuts = np.flatnonzero(np.diff(states) != 0) + 1
    starts, stops = np.concatenate([[0], cuts]), np.concatenate([cuts - 1, [len(states) - 1]])
    return [[round(float(data.time_s[a]), 4), round(float(data.time_s[b]), 4), FACING_NAMES[int(states[a])]]
            for a, b in zip(starts, stops)]


def person_summary(data: PersonData, *, files: dict[str, str], fps: float, calibration: dict[str, Any] | None,
                   part_names: Sequence[str]) -> dict[str, Any]:
    """One entry of ``people.json``'s ``people``: ``id``, ``frames`` (frames seen, filled ones
    included), ``interpolated_frames``, ``first_s``/``last_s``, ``first_frame``/``last_frame``
    (source indexes), ``spans`` (stretches seen), ``facing`` (frames facing left, right, frontal, back),
    ``facing_source`` ("auto", or "override" where the user set it), ``facing_runs`` ([start_s,
    end_s, state] stretches),
    ``swapped_frames`` per limb pair, ``angles`` {name: min, max, range, mean, frames} of the
    smoothed degrees, ``speed`` of the hips' midpoint (mean and 95th percentile, px/s or m/s),
    ``boxes`` ([time_s, x1, y1, x2, y2] samples), ``pose`` (a representative frame) and
    ``files`` (kind -> name relative to the job folder)."""
    return {
        "id": data.track_id, "frames": int(len(data.seq)), "interpolated_frames": int(data.interpolated.sum()),
        "first_s": round(float(data.time_s[0]), 4), "last_s": round(float(data.time_s[-1]), 4),
        "first_frame": int(data.frame[0]), "last_frame": int(data.frame[-1]),
        "spans": spans(data.seq, data.time_s, fps),
        "facing": {name: int((data.facing == code).sum()) for code, name in FACING_NAMES.items()},
        "facing_source": data.facing_source, "facing_runs": facing_runs(data),
        "facing_override": FACING_NAMES[int(data.facing[0])] if data.facing_source == "override" else None,
        "swapped_frames": {pair: int(mask.sum()) for pair, mask in data.swapped.items()},
        "angles": {name: angle_summary(data.degrees[:, i]) for i, name in enumerate(data.names)},
        "speed": _speed(data, calibration, part_names),
        "boxes": box_samples(data, fps), "pose": representative_pose(data), "files": files,
    }


def series_document(data: PersonData, *, start_s: float) -> dict[str, Any]:
    """``people/person_<id>.json``: the person's per-frame series (see pipeline.people_exports)."""
    world = {} if data.world is None else {"world": [
        None if not np.isfinite(frame).all() else np.round(frame, 3).ravel().tolist() for frame in data.world]}
    return {**world,
        "id": data.track_id, "start_s": start_s,
        "time_s": json_numbers(data.time_s, 4), "frame": data.frame.tolist(),
        "interpolated": data.interpolated.astype(int).tolist(), "facing": facing_names(data.facing),
        "facing_source": data.facing_source,
        "swapped": {pair: mask.astype(int).tolist() for pair, mask in data.swapped.items()},
        "angles": {name: {"smoothed": json_numbers(data.degrees[:, i], 1),
                          "raw": json_numbers(data.degrees_raw[:, i], 1)}
                   for i, name in enumerate(data.names)},
    }

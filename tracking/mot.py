"""MOTChallenge text files: read detections / ground truth, run SORT on them, write results.

A MOTChallenge row is ``frame, id, x, y, w, h, conf, ...`` with 1-based frame numbers and
top-left-corner boxes in pixels. Detection files carry ``id = -1``; results files carry the
track ID and end with ``-1, -1, -1`` (or the 3-D world coordinates, unused in 2-D tracking).
"""
from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tracking.errors import MotFormatError
from tracking.sort import Sort

#: Columns of the array returned by :func:`read_mot`; missing trailing columns are -1.
MOT_COLUMNS = ("frame", "id", "x", "y", "w", "h", "conf", "x3d", "y3d", "z3d")
_MIN_COLUMNS = 6


@dataclass(frozen=True)
class MotRecord:
    """One results row: 1-based ``frame``, ``track_id``, box top-left ``x, y`` and size ``w, h``
    in pixels, and ``score`` (the matched detection's confidence, -1 when unknown)."""

    frame: int
    track_id: int
    x: float
    y: float
    w: float
    h: float
    score: float = -1.0

    def to_line(self) -> str:
        """The row as MOTChallenge text, without a newline: ``frame,id,x,y,w,h,score,-1,-1,-1``."""
        return (f"{self.frame},{self.track_id},{self.x:.2f},{self.y:.2f},{self.w:.2f},{self.h:.2f},"
                f"{self.score:.4g},-1,-1,-1")


def read_mot(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a MOTChallenge file (det.txt, gt.txt or results) into float64 ``(M, 10)``.

    Columns are :data:`MOT_COLUMNS`; rows keep the file's order; blank lines are skipped;
    fields may be separated by commas or whitespace.
    Raises :class:`MotFormatError` naming the file and line for a missing or unreadable file,
    a row with fewer than 6 numbers, a non-numeric field, a frame number below 1 or a
    negative width or height.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MotFormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise MotFormatError(f"{path}: is a directory, expected a MOTChallenge .txt file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MotFormatError(f"{path}: cannot read as text ({exc})") from None
    rows = [_parse_line(path, number, line) for number, line in enumerate(text.splitlines(), 1)
            if line.strip()]
    return np.array(rows, dtype=np.float64).reshape(-1, len(MOT_COLUMNS))


def _parse_line(path: Path, number: int, line: str) -> list[float]:
    fields = [f for f in re.split(r"[,\s]+", line.strip()) if f]
    where = f"{path}:{number}"
    if len(fields) < _MIN_COLUMNS:
        raise MotFormatError(f"{where}: expected at least 6 comma-separated numbers "
                             f"(frame,id,x,y,w,h[,conf,...]), got {line.strip()!r}")
    try:
        values = [float(f) for f in fields[:len(MOT_COLUMNS)]]
    except ValueError:
        raise MotFormatError(f"{where}: not a number in {line.strip()!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise MotFormatError(f"{where}: non-finite value in {line.strip()!r}")
    if values[0] < 1 or values[0] != int(values[0]):
        raise MotFormatError(f"{where}: frame numbers are whole numbers starting at 1, got {fields[0]!r}")
    if values[4] < 0 or values[5] < 0:
        raise MotFormatError(f"{where}: negative box width or height in {line.strip()!r}")
    return values + [-1.0] * (len(MOT_COLUMNS) - len(values))


def frames(rows: np.ndarray, *, min_score: float | None = None,
           last_frame: int | None = None) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Yield ``(frame, boxes, scores)`` for every frame 1..last, including frames without rows.

    ``boxes`` is float64 ``(N, 4)`` x1, y1, x2, y2; ``scores`` float64 ``(N,)`` (the conf
    column). Rows with conf below ``min_score`` are left out when it is given. ``last_frame``
    defaults to the largest frame number in ``rows``.
    """
    if min_score is not None:
        rows = rows[rows[:, 6] >= min_score]
    frame_numbers = rows[:, 0].astype(np.int64)
    last = int(frame_numbers.max(initial=0)) if last_frame is None else last_frame
    order = np.argsort(frame_numbers, kind="stable")
    starts = np.searchsorted(frame_numbers[order], np.arange(1, last + 2))
    for frame in range(1, last + 1):
        chunk = rows[order[starts[frame - 1]:starts[frame]]]
        boxes = np.column_stack([chunk[:, 2], chunk[:, 3], chunk[:, 2] + chunk[:, 4], chunk[:, 3] + chunk[:, 5]])
        yield frame, boxes.reshape(-1, 4), chunk[:, 6].copy()


def track_detections(rows: np.ndarray, *, max_age: int = 1, min_hits: int = 3, iou_threshold: float = 0.3,
                     min_score: float | None = None, **tracker_options: Any) -> list[MotRecord]:
    """Run a fresh :class:`Sort` over detection rows (from :func:`read_mot`); return results
    rows in frame order. Boxes are SORT's Kalman estimates, scores the matched detections'.
    ``tracker_options`` are :class:`Sort`'s other keyword options (``low_score_threshold``,
    ``observation_reupdate``, ``lost_track_buffer_s`` with ``fps``, ...)."""
    tracker = Sort(max_age=max_age, min_hits=min_hits, iou_threshold=iou_threshold, **tracker_options)
    records: list[MotRecord] = []
    for frame, boxes, scores in frames(rows, min_score=min_score):
        for obj in tracker.update(boxes, scores):
            if obj.track_id is None:
                continue
            x1, y1, x2, y2 = (float(v) for v in obj.box)
            records.append(MotRecord(frame, obj.track_id, x1, y1, x2 - x1, y2 - y1,
                                     -1.0 if obj.score is None else obj.score))
    return records


def write_mot(path: str | os.PathLike[str], records: Iterable[MotRecord]) -> int:
    """Write results rows to ``path`` atomically (temp file + rename); return the row count.

    Raises :class:`MotFormatError` when the folder does not exist or the file cannot be written
    there (an unwritable folder, ``path`` is a directory, a full disk)."""
    path = Path(path)
    if not path.parent.is_dir():
        raise MotFormatError(f"{path}: folder {path.parent} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise MotFormatError(f"{path}: cannot write there ({exc.strerror})") from None
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for record in records:
                out.write(record.to_line() + "\n")
                count += 1
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results are ordinary files
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise MotFormatError(f"{path}: cannot write there ({exc.strerror or exc})") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count

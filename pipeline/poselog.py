"""Everyone seen in a video, one fixed-size row per person per frame, kept in a file.

Pass 1 of the pipeline (analyse) appends rows frame by frame; they are buffered in memory a few
thousand at a time and written to a file in the job's work folder, so memory stays flat however
long the video is (about 250 bytes per person per frame with 18 keypoints). The track
post-processing and pass 2 (render) read them back through a read-only memory map.

Rows (:func:`row_dtype`): ``seq`` (int32, the frame's number among the processed frames, 0, 1,
2, ...: what tracking counts in), ``frame`` (int32, source frame index), ``time_s`` (float64),
``track`` (int32: the online tracker's ID, or :data:`NO_TRACK`), ``score`` (float32),
``box`` (4 float32: x1, y1, x2, y2 pixels), ``keypoints`` (K x 3 float32: x, y pixels,
confidence; 0 = missing) and, for a skeleton with world coordinates only, ``world`` (K x 3
float32 metres, NaN = none). Rows are in frame order (people of one frame best first).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

NO_TRACK = -1


def row_dtype(num_parts: int, *, world: bool = False) -> np.dtype:
    fields = [("seq", "<i4"), ("frame", "<i4"), ("time_s", "<f8"), ("track", "<i4"), ("score", "<f4"),
              ("box", "<f4", (4,)), ("keypoints", "<f4", (num_parts, 3))]
    return np.dtype(fields + ([("world", "<f4", (num_parts, 3))] if world else []))


class PoseLog:
    """Append-only rows in ``path``; :meth:`close` returns them as a read-only array."""

    def __init__(self, path: Path, *, num_parts: int, world: bool = False, buffer_rows: int = 4096) -> None:
        self.path = Path(path)
        self.dtype = row_dtype(num_parts, world=world)
        self._buffer = np.zeros(buffer_rows, dtype=self.dtype)
        self._buffered = 0
        self.rows = 0
        self._file = open(self.path, "wb")

    def add(self, seq: int, frame: int, time_s: float, *, track: int, score: float, box, keypoints,
            world=None) -> None:
        """One person; ``world`` (K, 3) metres or None (NaN), kept only when the log has them."""
        row = self._buffer[self._buffered]
        row["seq"], row["frame"], row["time_s"], row["track"], row["score"] = seq, frame, time_s, track, score
        row["box"], row["keypoints"] = box, keypoints
        if "world" in self.dtype.names:
            row["world"] = np.nan if world is None else world
        self._buffered += 1
        self.rows += 1
        if self._buffered == len(self._buffer):
            self._flush()

    def _flush(self) -> None:
        self._file.write(self._buffer[: self._buffered].tobytes())
        self._buffered = 0

    def close(self) -> np.ndarray:
        """Write what is buffered; the rows as a read-only memory map (an empty array if none)."""
        self._flush()
        self._file.close()
        return read_rows(self.path, self.dtype)

    def abort(self) -> None:
        self._file.close()


def read_rows(path: Path, dtype: np.dtype) -> np.ndarray:
    """The rows of a finished log (or any file of such rows), memory-mapped read-only."""
    if Path(path).stat().st_size == 0:
        return np.zeros(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r")


def write_rows(path: Path, rows: np.ndarray) -> np.ndarray:
    """Write ``rows`` to ``path`` and map them back read-only (for derived tables)."""
    with open(path, "wb") as f:
        f.write(np.ascontiguousarray(rows).tobytes())
    return read_rows(path, rows.dtype)


class FrameIndex:
    """Rows of one frame at a time, for rows sorted by their ``key`` column (``"seq"``, the
    processed frame number, or ``"frame"``, the source index): ``rows_of(value)``."""

    def __init__(self, rows: np.ndarray, *, key: str = "seq") -> None:
        self.rows = rows
        self._keys = np.asarray(rows[key]) if len(rows) else np.zeros(0, dtype=np.int32)

    def rows_of(self, value: int) -> np.ndarray:
        lo, hi = np.searchsorted(self._keys, [value, value + 1])
        return self.rows[lo:hi]

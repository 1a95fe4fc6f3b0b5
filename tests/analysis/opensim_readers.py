"""Readers for .trc and .mot written from the formats' published descriptions, not from our
writer: OpenSim's "Marker (.trc) Files" (three header lines, two rows of column labels, a blank
row, then tab-delimited rows: frame number, time, x y z per marker; t = (f - OrigDataStartFrame)
/ DataRate) and "Motion (.mot) Files" / "Storage (.sto) Files" (a name line, ``nRows=``,
``nColumns=`` including time, optional ``version=1`` and ``inDegrees=yes|no`` lines and free text,
``endheader``, then a row of column labels and rows of numbers). Missing values: an empty field
(.trc, Motion Analysis's convention) or NaN."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Trc:
    path_line: list[str]
    header: dict[str, str]
    markers: list[str]
    frame_numbers: np.ndarray
    times: np.ndarray
    positions: np.ndarray  # (F, M, 3)


def _number(text: str) -> float:
    return float("nan") if text.strip() == "" else float(text)


def read_trc(path: Path) -> Trc:
    lines = Path(path).read_text(encoding="ascii").split("\n")
    path_line = lines[0].split("\t")
    assert path_line[0] == "PathFileType", path_line
    header = dict(zip(lines[1].split("\t"), lines[2].split("\t")))
    labels = lines[3].split("\t")
    assert labels[:2] == ["Frame#", "Time"], labels[:2]
    markers = [labels[i] for i in range(2, len(labels), 3)]
    assert all(m for m in markers) and all(labels[i] == "" for i in range(2, len(labels)) if (i - 2) % 3), labels
    coordinates = lines[4].split("\t")
    assert coordinates[:2] == ["", ""] and coordinates[2:5] == ["X1", "Y1", "Z1"], coordinates[:5]
    assert lines[5] == "", "a blank row separates the labels from the data"
    rows = [line.split("\t") for line in lines[6:] if line != ""]
    width = 2 + 3 * len(markers)
    assert all(len(r) == width for r in rows), {len(r) for r in rows}
    frames = np.array([int(r[0]) for r in rows])
    times = np.array([float(r[1]) for r in rows])
    values = np.array([[_number(v) for v in r[2:]] for r in rows]).reshape(len(rows), len(markers), 3)
    return Trc(path_line, header, markers, frames, times, values)


@dataclass
class Mot:
    name: str
    header: dict[str, str]
    columns: list[str]
    data: np.ndarray  # (rows, columns), time first


def read_mot(path: Path) -> Mot:
    lines = Path(path).read_text(encoding="ascii").split("\n")
    end = lines.index("endheader")
    header = dict(line.split("=", 1) for line in lines[1:end] if "=" in line)
    columns = lines[end + 1].split("\t")
    rows = [line.split("\t") for line in lines[end + 2:] if line.strip()]
    data = np.array([[float(v) for v in r] for r in rows]) if rows else np.zeros((0, len(columns)))
    assert int(header["nRows"]) == len(rows) and int(header["nColumns"]) == len(columns) == data.shape[1]
    return Mot(lines[0], header, columns, data)

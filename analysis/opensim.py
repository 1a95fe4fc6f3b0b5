"""The two text files OpenSim reads motion from: ``.trc`` marker positions and ``.mot`` angles.

``.trc`` (Motion Analysis Corporation's Track Row Column, as OpenSim documents it: "Marker (.trc)
Files"): tab-separated; three header lines (``PathFileType 4 (X/Y/Z) <name>``; the field names
``DataRate CameraRate NumFrames NumMarkers Units OrigDataRate OrigDataStartFrame OrigNumFrames``;
their values), then two rows of column labels (``Frame# Time`` and each marker's name over its
three columns; then ``X1 Y1 Z1 X2 ...``), a blank row, and one row per frame: frame number,
time (s), then x, y, z of every marker; a marker not seen in a frame has empty fields.

``.mot`` (OpenSim's storage header, "Motion (.mot) Files" / "Storage (.sto) Files"): a name line,
``version=1``, ``nRows=``, ``nColumns=`` (time included), ``inDegrees=yes``, free text, then
``endheader``; then a tab-separated row of column labels (``time`` first) and one row per
frame. Missing values are written ``NaN`` (what OpenSim writes and reads).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

TRC_FIELDS = ("DataRate", "CameraRate", "NumFrames", "NumMarkers", "Units", "OrigDataRate",
              "OrigDataStartFrame", "OrigNumFrames")


def _number(value: float, digits: int) -> str:
    return f"{value:.{digits}f}" if np.isfinite(value) else ""


def write_trc(path: Path, *, frame_numbers: np.ndarray, times_s: np.ndarray, markers: Sequence[str],
              positions: np.ndarray, rate_hz: float, units: str, digits: int = 5) -> None:
    """Write ``positions`` float ``(F, M, 3)`` (NaN = not seen) of ``markers`` (M names, no
    whitespace) at ``times_s`` ``(F,)`` with 1-based ``frame_numbers`` ``(F,)`` to ``path``."""
    positions = np.asarray(positions, dtype=np.float64)
    frames = len(times_s)
    if positions.shape != (frames, len(markers), 3) or len(frame_numbers) != frames:
        raise ValueError(f"positions must be ({frames}, {len(markers)}, 3), got {positions.shape}")
    if any(not name or any(ch.isspace() for ch in name) for name in markers):
        raise ValueError(f"marker names must be non-empty without whitespace: {list(markers)!r}")
    first = int(frame_numbers[0]) if frames else 1
    values = (f"{rate_hz:.6g}", f"{rate_hz:.6g}", str(frames), str(len(markers)), units, f"{rate_hz:.6g}",
              str(first), str(frames))
    lines = [
        "\t".join(("PathFileType", "4", "(X/Y/Z)", Path(path).name)),
        "\t".join(TRC_FIELDS),
        "\t".join(values),
        "\t".join(["Frame#", "Time"] + [f"{name}\t\t" for name in markers]).rstrip("\t"),
        "\t".join(["", ""] + [f"{axis}{i + 1}" for i in range(len(markers)) for axis in "XYZ"]),
        "",
    ]
    for number, time_s, row in zip(frame_numbers, times_s, positions):
        cells = [_number(v, digits) for v in row.ravel()]
        lines.append("\t".join([str(int(number)), f"{float(time_s):.6f}", *cells]))
    Path(path).write_text("\n".join(lines) + "\n", encoding="ascii")


def write_mot(path: Path, *, times_s: np.ndarray, columns: Sequence[str], values: np.ndarray, name: str,
              digits: int = 2, notes: Sequence[str] = ()) -> None:
    """Write ``values`` float ``(F, C)`` (degrees; NaN = missing) of ``columns`` (C labels, no
    whitespace) at ``times_s`` ``(F,)`` to ``path`` as an OpenSim motion file named ``name``."""
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (len(times_s), len(columns)):
        raise ValueError(f"values must be ({len(times_s)}, {len(columns)}), got {values.shape}")
    if any(not c or any(ch.isspace() for ch in c) for c in columns):
        raise ValueError(f"column labels must be non-empty without whitespace: {list(columns)!r}")
    lines = [name, "version=1", f"nRows={len(times_s)}", f"nColumns={len(columns) + 1}", "inDegrees=yes", "",
             "Units are S.I. units (second, meters, Newtons, ...)", "Angles are in degrees.", *notes, "",
             "endheader", "\t".join(["time", *columns])]
    for time_s, row in zip(times_s, values):
        cells = [f"{v:.{digits}f}" if np.isfinite(v) else "NaN" for v in row]
        lines.append("\t".join([f"{float(time_s):.6f}", *cells]))
    Path(path).write_text("\n".join(lines) + "\n", encoding="ascii")

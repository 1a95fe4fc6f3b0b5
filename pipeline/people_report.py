"""A report per person, to hand to an athlete or a patient: ``people/person_<id>_report.pdf``.

Page 1: the video's details, a thumbnail (the person cropped from a screenshot), what was seen
(when, how long, facing over time as a coloured strip) and the repetitions table; then one
small chart per angle (joint angles first), its range of motion shaded and written beside it,
repetitions shaded on the automatic angle. Made with matplotlib's Agg backend (no browser, no
display) from the files the worker wrote (``people.json`` and the person's series), so it always
says what the exports say; :func:`write_person_report` writes it again when those are newer (a
facing override).
"""
from __future__ import annotations

import json
import math
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

#: Facing colours, as the people page draws them.
FACING_COLOURS = {"left": "#4c78a8", "right": "#f58518", "frontal": "#54a24b", "back": "#9d755d"}
CHARTS_PER_PAGE = 8
A4 = (8.27, 11.69)


def report_name(track_id: int) -> str:
    return f"people/person_{track_id}_report.pdf"


def write_person_report(out_dir: Path, track_id: int, *, source_name: str, thumbnail: Path | None = None,
                        box: list[float] | None = None) -> Path:
    """Write (or reuse, when newer than the files it is made from) person ``track_id``'s report
    in the job folder ``out_dir``; returns its path. Raises KeyError for an unknown person.
    thumbnail: a screenshot (JPEG) that shows them, ``box`` [x1, y1, x2, y2] where."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_pdf import PdfPages

    out_dir = Path(out_dir)
    document = json.loads((out_dir / "people.json").read_text(encoding="utf-8"))
    person = next((p for p in document["people"] if p["id"] == track_id), None)
    if person is None:
        raise KeyError(track_id)
    series_path = out_dir / person["files"]["series"]
    path = out_dir / report_name(track_id)
    sources = [out_dir / "people.json", series_path]
    if path.is_file() and path.stat().st_mtime >= max(s.stat().st_mtime for s in sources):
        return path
    series = json.loads(series_path.read_text(encoding="utf-8"))
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")  # one per writer
    with PdfPages(temporary, metadata={"Title": f"Person {track_id} - {source_name}", "Creator": "Pose Studio"}) as pdf:
        first = _first_page(document, person, series, source_name, thumbnail, box)
        pdf.savefig(first)
        _close(first)
        angles = sorted(document["angles"], key=lambda a: a["kind"] != "joint")
        for start in range(0, len(angles), CHARTS_PER_PAGE):
            page = _charts_page(document, person, series, angles[start:start + CHARTS_PER_PAGE])
            pdf.savefig(page)
            _close(page)
    os.replace(temporary, path)
    return path


def _close(figure) -> None:
    import matplotlib.pyplot as plt

    plt.close(figure)


def _clock(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes}:{seconds - 60 * minutes:04.1f}"


def _values(series: dict[str, Any], name: str) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in series["angles"][name]["smoothed"]], dtype=float)


def _first_page(document: dict[str, Any], person: dict[str, Any], series: dict[str, Any], source_name: str,
                thumbnail: Path | None, box: list[float] | None):
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=A4)
    start_s = float(document.get("start_s", 0.0))
    figure.text(0.06, 0.955, f"Person {person['id']}", fontsize=22, weight="bold")
    figure.text(0.06, 0.93, source_name, fontsize=11, color="#444")
    video = document["video"]
    seen = person["last_s"] - person["first_s"] + 1.0 / document["fps"]
    facing = person.get("facing", {})
    main_facing = max(facing, key=facing.get) if facing else "unknown"
    lines = [
        ("Video", f"{video['width']} x {video['height']} px, {document['fps']:g} frames/s"),
        ("Seen", f"{_clock(person['first_s'] - start_s)} to {_clock(person['last_s'] - start_s)} "
                 f"({seen:.1f} s, {person['frames']} frames, {person.get('interpolated_frames', 0)} filled in)"),
        ("Facing", f"mostly {main_facing}" + (" (set by hand)" if person.get("facing_source") == "override" else
                                              " (decided frame by frame)")),
        ("Skeleton", document.get("skeleton", {}).get("name", "openpose18")),
        ("Angles", "0 = straight limb, + = flexion (Sports2D)"),
    ]
    reps = person.get("reps") or {}
    if reps.get("angle"):
        lines.append(("Repetitions", f"{reps['count']} on the {reps['angle'].replace('_', ' ')}"
                      + (f", {reps['partial']} partial" if reps.get("partial") else "")))
    for k, (label, text) in enumerate(lines):
        figure.text(0.06, 0.89 - 0.027 * k, label, fontsize=10, weight="bold")
        figure.text(0.2, 0.89 - 0.027 * k, text, fontsize=10, wrap=True)
    if thumbnail is not None and box is not None and Path(thumbnail).is_file():
        _thumbnail(figure, Path(thumbnail), box)
    _facing_strip(figure, person, 1.0 / float(document["fps"]), start_s)
    _reps_table(figure, series, start_s)
    return figure


def _thumbnail(figure, picture: Path, box: list[float]) -> None:
    import cv2

    image = cv2.imread(str(picture))
    if image is None:
        return
    x1, y1, x2, y2 = box
    pad = 0.12 * max(x2 - x1, y2 - y1)
    x1, y1 = max(0, int(x1 - pad)), max(0, int(y1 - pad))
    x2, y2 = min(image.shape[1], int(x2 + pad)), min(image.shape[0], int(y2 + pad))
    if x2 <= x1 or y2 <= y1:
        return
    axes = figure.add_axes((0.72, 0.69, 0.22, 0.27))
    axes.imshow(cv2.cvtColor(image[y1:y2, x1:x2], cv2.COLOR_BGR2RGB))
    axes.set_axis_off()


def _facing_strip(figure, person: dict[str, Any], step: float, start_s: float) -> None:
    axes = figure.add_axes((0.06, 0.6, 0.88, 0.035))
    runs = person.get("facing_runs") or []
    for a, b, state in runs:
        axes.axvspan(a - start_s, b - start_s + step, color=FACING_COLOURS.get(state, "#999"), lw=0)
    axes.set_xlim(person["first_s"] - start_s, person["last_s"] - start_s + step)
    axes.set_yticks([])
    axes.set_title("Facing over time", fontsize=10, loc="left")
    axes.tick_params(labelsize=8)
    axes.set_xlabel("video time (s)", fontsize=8)
    used = sorted({state for _, _, state in runs})
    for k, state in enumerate(used):
        figure.text(0.06 + 0.16 * k, 0.565, "\u25a0 " + state, color=FACING_COLOURS.get(state, "#999"), fontsize=9)


def _reps_table(figure, series: dict[str, Any], start_s: float) -> None:
    reps = series.get("reps") or {}
    angle = reps.get("angle")
    figure.text(0.06, 0.52, "Repetitions" + (f" ({angle.replace('_', ' ')})" if angle else ""), fontsize=12,
                weight="bold")
    figure.text(0.06, 0.5, "tempo: seconds going out - held at the far end - coming back", fontsize=8,
                color="#444")
    if not angle:
        figure.text(0.06, 0.495, "No angle moved back and forth at least twice.", fontsize=10, color="#444")
        return
    rows = [[str(r["rep"]), _clock(r["start_s"] - start_s), _clock(r["end_s"] - start_s), f"{r['duration_s']:.2f}",
             f"{r['min_degrees']:.0f}", f"{r['max_degrees']:.0f}", f"{r['range_degrees']:.0f}", r["tempo"]]
            for r in reps["by_angle"][angle]][:22]
    axes = figure.add_axes((0.06, 0.03, 0.88, 0.45))
    axes.set_axis_off()
    table = axes.table(cellText=rows, colLabels=["rep", "start", "end", "seconds", "min °", "max °", "range °",
                                                 "tempo (s)"], loc="upper left", cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1, 1.3)


def _charts_page(document: dict[str, Any], person: dict[str, Any], series: dict[str, Any], angles: list[dict]):
    import matplotlib.pyplot as plt

    figure, grid = plt.subplots(math.ceil(CHARTS_PER_PAGE / 2), 2, figsize=A4, squeeze=False)
    start_s = float(document.get("start_s", 0.0))
    times = np.array(series["time_s"], dtype=float) - start_s
    reps = series.get("reps") or {}
    for axes, info in zip(grid.ravel(), angles):
        values = _values(series, info["name"])
        summary = person["angles"].get(info["name"], {})
        axes.plot(times, values, color="#1f5fa8", lw=1.2)
        if summary.get("frames"):
            axes.axhspan(summary["min"], summary["max"], color="#1f5fa8", alpha=0.08, lw=0)
            axes.set_title(f"{info['label']}: {summary['min']:.0f}° to {summary['max']:.0f}° "
                           f"(range of motion {summary['range']:.0f}°)", fontsize=9, loc="left")
        else:
            axes.set_title(f"{info['label']}: not seen", fontsize=9, loc="left")
        for rep in (reps.get("by_angle") or {}).get(info["name"], []) if reps.get("angle") == info["name"] else []:
            axes.axvspan(rep["start_s"] - start_s, rep["end_s"] - start_s, color="#f2c14e", alpha=0.3, lw=0)
        low, high = axes.get_ylim()
        if high - low < 10:  # a still angle: a flat line in a readable band, not noise blown up
            middle = np.nanmean(values) if np.isfinite(values).any() else 0.0
            axes.set_ylim(middle - 5, middle + 5)
        axes.tick_params(labelsize=7)
        axes.set_xlabel("video time (s)", fontsize=7)
        axes.set_ylabel("degrees", fontsize=7)
        axes.grid(alpha=0.3)
    for axes in grid.ravel()[len(angles):]:
        axes.set_axis_off()
    figure.suptitle(f"Person {person['id']}: angles over time (smoothed); shaded: range of motion, "
                    "yellow: repetitions", fontsize=10)
    figure.tight_layout(rect=(0, 0, 1, 0.97))
    return figure

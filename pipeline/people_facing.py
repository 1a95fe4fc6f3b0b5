"""A person's facing, set by the user: their angles derived again, without running the model.

The automatic facing (:mod:`analysis.facing`) can be wrong for a stretch (a person turning on the
spot, a detector that flips labels). The user then says which way the person faces for their
whole track, or goes back to automatic: :func:`set_facing` reads the person's final rows, saved
beside their exports by :func:`pipeline.people_exports.write_people_exports`
(``people/person_<id>_rows.npy``), runs :func:`pipeline.people_exports.analyse_person` with the
override and writes again every file that holds their angles: their rows of ``angles.csv`` and
``reps.csv``, their
angles CSV, series JSON, ``.mot`` (and ``.trc``), and their entry of ``people.json``, which
records the choice (``facing_source``: ``override``, ``facing_override``: the state). A few
milliseconds per second of video; files are replaced whole (written beside, then renamed), under
a lock on the job folder so that two overrides at once do not lose one another's rows.
"""
from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from analysis.facing import FACING_CODES
from pose.skeleton import SKELETONS
from pipeline.people_data import person_summary
from pipeline.people_reps import REPS_CSV, REPS_CSV_COLUMNS
from pipeline.people_exports import (
    ANGLES_CSV, ANGLES_CSV_COLUMNS, PEOPLE_JSON, _Clock, _write_opensim, analyse_person, person_files,
    write_person_files,
)

AUTO = "auto"
CHOICES = (AUTO, *FACING_CODES)
LOCK_NAME = ".people.lock"


class FacingError(ValueError):
    """A facing override that cannot be applied; the message says why."""


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    with open(folder / LOCK_NAME, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _replace_text(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _rewrite_rows(path: Path, track_id: int, lines: list[str], column: int) -> None:
    """A CSV ordered by track ID (in ``column``) with the person's rows replaced by ``lines``."""
    temporary = path.with_name(path.name + ".tmp")
    placed = False
    with open(path, encoding="utf-8", newline="") as old, open(temporary, "w", encoding="utf-8", newline="") as new:
        new.write(next(old))
        for line in old:
            other = int(line.split(",", column + 1)[column])
            if other == track_id:
                continue
            if other > track_id and not placed:
                new.writelines(lines)
                placed = True
            new.write(line)
        if not placed:
            new.writelines(lines)
    os.replace(temporary, path)


def set_facing(out_dir: Path, track_id: int, facing: str) -> dict[str, Any]:
    """Set person ``track_id``'s facing in the job folder ``out_dir`` to ``facing`` (``left``,
    ``right``, ``frontal``, ``back``, or ``auto`` to decide frame by frame again) and rewrite
    their exports; returns their new ``people.json`` entry. Raises :class:`FacingError` (a bad
    choice, an unknown person, a job processed before overrides existed)."""
    choice = str(facing).strip().lower()
    if choice not in CHOICES:
        raise FacingError(f"facing must be one of {', '.join(CHOICES)}; got {facing!r}")
    out_dir = Path(out_dir)
    with _locked(out_dir):
        document = json.loads((out_dir / PEOPLE_JSON).read_text(encoding="utf-8"))
        entry = next((p for p in document.get("people", []) if p["id"] == track_id), None)
        if entry is None:
            raise FacingError(f"There is no person with track ID {track_id} in this job.")
        paths = {**person_files(track_id), **entry.get("files", {})}
        if not (out_dir / paths["rows"]).is_file():
            raise FacingError("This job's people were analysed before facing could be set: upload the video "
                              "again to be able to set it.")
        rows = np.load(out_dir / paths["rows"], allow_pickle=False)
        skeleton = SKELETONS[document.get("skeleton", {}).get("name", "openpose18")]
        names = [a["name"] for a in document["angles"]]
        fps = float(document["fps"])
        data = analyse_person(rows, track_id, names=names, fps=fps, part_names=skeleton.part_names,
                              facing=None if choice == AUTO else choice)
        written = write_person_files(data, paths, out_dir, start_s=float(document["start_s"]))
        _rewrite_rows(out_dir / ANGLES_CSV, track_id, written.angle_lines, ANGLES_CSV_COLUMNS.index("track_id"))
        if (out_dir / REPS_CSV).is_file():
            _rewrite_rows(out_dir / REPS_CSV, track_id, written.reps_lines, REPS_CSV_COLUMNS.index("track_id"))
        _write_opensim(data, paths, out_dir, _Clock(rows), skeleton, document.get("calibration"),
                       document["video"])
        summary = person_summary(data, files=entry.get("files", paths), fps=fps,
                                 calibration=document.get("calibration"), part_names=skeleton.part_names)
        summary["reps"] = written.reps
        document["people"] = [summary if p["id"] == track_id else p for p in document["people"]]
        _replace_text(out_dir / PEOPLE_JSON, json.dumps(document, separators=(",", ":")))
    return summary

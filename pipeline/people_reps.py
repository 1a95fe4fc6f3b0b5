"""Repetitions per person (:mod:`analysis.reps`), as the exports and the page carry them.

For each person, reps are counted on every joint angle (a few microseconds a frame each), so the
API can answer for any angle from the files; the automatic angle (the largest periodic range,
:func:`analysis.reps.choose_angle`) is the one ``reps.csv`` lists and the page marks first.

``reps.csv`` columns (:data:`REPS_CSV_COLUMNS`): ``track_id, angle, rep, start_s, end_s,
min_degrees, max_degrees, range_degrees, duration_s, out_s, hold_s, back_s, tempo,
start_frame, end_frame`` (times as the other exports', seconds of the source video; ``out_s``,
``hold_s``, ``back_s``: going out to the far turning point, held there, coming back; ``tempo``
the three as ``out-hold-back``; frames: source frame indexes). One row per rep of each person's
automatic angle, ordered by track ID.
"""
from __future__ import annotations

from typing import Any

from analysis.angles import BY_NAME, JOINT
from analysis.reps import Rep, choose_angle, count_reps, partial_reps
from pipeline.people_data import PersonData

REPS_CSV = "reps.csv"
REPS_CSV_COLUMNS = ("track_id", "angle", "rep", "start_s", "end_s", "min_degrees", "max_degrees", "range_degrees",
                    "duration_s", "out_s", "hold_s", "back_s", "tempo", "start_frame", "end_frame")


def person_reps(data: PersonData) -> dict[str, list[Rep]]:
    """Joint angle name -> its reps, on the smoothed degrees."""
    return {name: count_reps(data.degrees[:, i], data.time_s) for i, name in enumerate(data.names)
            if BY_NAME[name].kind == JOINT}


def rep_json(rep: Rep, data: PersonData) -> dict[str, Any]:
    return {"rep": rep.number, "start_s": round(rep.start_s, 4), "end_s": round(rep.end_s, 4),
            "turn_s": round(float(data.time_s[rep.turn]), 4),
            "min_degrees": round(rep.min_degrees, 1), "max_degrees": round(rep.max_degrees, 1),
            "range_degrees": round(rep.range_degrees, 1), "duration_s": round(rep.duration_s, 3),
            "out_s": round(rep.out_s, 3), "hold_s": round(rep.hold_s, 3), "back_s": round(rep.back_s, 3),
            "tempo": rep.tempo, "start_frame": int(data.frame[rep.start]), "end_frame": int(data.frame[rep.end])}


def reps_document(data: PersonData, reps: dict[str, list[Rep]]) -> dict[str, Any]:
    """The person series' ``reps``: ``angle`` (the automatic choice, or None) and ``by_angle``
    {joint angle: [rep, ...]} (see :func:`rep_json`)."""
    return {"angle": choose_angle(reps), "by_angle": {name: [rep_json(r, data) for r in found]
                                                      for name, found in reps.items()}}


def reps_summary(data: PersonData, reps: dict[str, list[Rep]]) -> dict[str, Any]:
    """people.json's ``reps`` of a person: the automatic angle, how many reps, how many partial."""
    angle = choose_angle(reps)
    if angle is None:
        return {"angle": None, "count": 0, "partial": 0}
    column = data.names.index(angle)
    return {"angle": angle, "count": len(reps[angle]),
            "partial": partial_reps(data.degrees[:, column], data.time_s)}


def reps_lines(data: PersonData, reps: dict[str, list[Rep]]) -> list[str]:
    """The person's rows of ``reps.csv`` (their automatic angle's reps)."""
    angle = choose_angle(reps)
    if angle is None:
        return []
    lines = []
    for rep in reps[angle]:
        row = rep_json(rep, data)
        lines.append(",".join(str(v) for v in (
            data.track_id, angle, rep.number, f"{rep.start_s:.4f}", f"{rep.end_s:.4f}", f"{rep.min_degrees:.2f}",
            f"{rep.max_degrees:.2f}", f"{rep.range_degrees:.2f}", f"{rep.duration_s:.3f}", f"{rep.out_s:.3f}",
            f"{rep.hold_s:.3f}", f"{rep.back_s:.3f}", rep.tempo, row["start_frame"], row["end_frame"])) + "\n")
    return lines

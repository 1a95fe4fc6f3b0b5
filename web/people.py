"""The people of a finished job, for the job page and scripts: who was tracked, when, and their
angles (``GET /api/jobs/<id>/people``, ``GET /api/jobs/<id>/people/<track id>``).

The worker wrote everything as JSON (``pipeline.people_exports``: ``people.json`` and one
``people/person_<id>.json`` per person), so this module only reads files and turns names into
URLs: the web app never loads numpy. Each person also gets a thumbnail: the screenshot (taken
every few seconds of video) in which their box is largest, with the box to crop it to.
"""
from __future__ import annotations

import bisect
import json
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request, send_from_directory, url_for

from jobs import Job, JobState
from web.outputs import job_folder, screenshot_time
from web.state import get_job_or_404

bp = Blueprint("people", __name__, url_prefix="/api")
#: A screenshot shows a person whose box was sampled this close to its time (seconds).
THUMBNAIL_MAX_DT_S = 0.3
NOT_FINISHED = "This job has no outputs yet: it has not finished successfully."
NO_PEOPLE = ("This job has no people data: it was processed before Pose Studio computed angles. "
             "Upload the video again to get them.")


def _people_path(job: Job) -> Path:
    """``people.json`` of a succeeded job, or a 404 saying why there is none."""
    state_name = getattr(job.state, "value", job.state)
    folder = job_folder(job.id)
    if state_name != JobState.SUCCEEDED.value or not folder.is_dir():
        abort(404, description=NOT_FINISHED)
    name = job.outputs.get("people")
    if not name or not (folder / name).is_file():
        abort(404, description=NO_PEOPLE)
    return folder / name


def _url(job: Job, name: str, **query: str) -> str:
    return url_for("outputs.file", job_id=job.id, name=name, **query)


def _thumbnail(person: dict[str, Any], shots: list[tuple[float, str]]) -> dict[str, Any] | None:
    """The screenshot where the person's sampled box (within THUMBNAIL_MAX_DT_S) is largest."""
    boxes = person.get("boxes") or []
    if not boxes or not shots:
        return None
    times = [b[0] for b in boxes]
    best = None
    low = bisect.bisect_left(shots, (person["first_s"] - THUMBNAIL_MAX_DT_S, ""))
    for time_s, name in shots[low:]:
        if time_s > person["last_s"] + THUMBNAIL_MAX_DT_S:
            break
        i = bisect.bisect_left(times, time_s)
        near = min((j for j in (i - 1, i) if 0 <= j < len(boxes)), key=lambda j: abs(times[j] - time_s))
        if abs(times[near] - time_s) > THUMBNAIL_MAX_DT_S:
            continue
        x1, y1, x2, y2 = boxes[near][1:]
        area = max(0.0, x2 - x1) * max(0.0, y2 - y1)
        if best is None or area > best[0]:
            best = (area, name, [x1, y1, x2, y2], time_s)
    if best is None:
        return None
    return {"name": best[1], "box": best[2], "time_s": best[3]}


def person_json(job: Job, person: dict[str, Any], shots: list[tuple[float, str]]) -> dict[str, Any]:
    """One entry of the people list: the summary, URLs for the person's files and series, and
    a thumbnail (screenshot URL and box) or None."""
    out = {k: v for k, v in person.items() if k not in ("boxes", "files")}
    files = person.get("files", {})
    out["series_url"] = url_for("people.job_person", job_id=job.id, track_id=person["id"])
    out["downloads"] = {kind: _url(job, name, download="1") for kind, name in files.items()
                        if kind not in ("series", "rows")}
    out["facing_url"] = url_for("people.job_person_facing", job_id=job.id, track_id=person["id"])
    if "series" in files:
        out["downloads"]["report"] = url_for("people.job_person_report", job_id=job.id, track_id=person["id"])
    thumb = _thumbnail(person, shots)
    if thumb is not None:
        thumb["url"] = _url(job, thumb.pop("name"))
    out["thumbnail"] = thumb
    return out


@bp.get("/jobs/<job_id>/people")
def job_people(job_id: str) -> Response:
    """Everyone tracked in a succeeded job (see ``pipeline.people_exports.people_document``), with
    URLs: ``{fps, start_s, video, angles, unavailable, calibration, count, people: [{id, frames,
    first_s, last_s, spans, angles: {name: {min, max, range, mean, frames}}, series_url,
    downloads, thumbnail, pose, ...}]}``."""
    job = get_job_or_404(job_id)
    document = json.loads(_people_path(job).read_text(encoding="utf-8"))
    shots = sorted((t, name) for name in job.outputs.get("screenshots", [])
                   if (t := screenshot_time(name)) is not None)
    people = [person_json(job, p, shots) for p in document.get("people", [])]
    body = {k: v for k, v in document.items() if k != "people"}
    body.update(count=len(people), people=people)
    return jsonify(body)


@bp.get("/jobs/<job_id>/people/<int:track_id>")
def job_person(job_id: str, track_id: int) -> Response:
    """One person's series: ``{id, start_s, time_s: [...], frame: [...], interpolated, facing,
    swapped: {arms, legs}, angles: {name: {smoothed: [...], raw: [...]}}}`` (degrees, null =
    missing); subtract ``start_s`` from ``time_s`` for the annotated video's time."""
    job = get_job_or_404(job_id)
    document = json.loads(_people_path(job).read_text(encoding="utf-8"))
    person = next((p for p in document.get("people", []) if p["id"] == track_id), None)
    if person is None or "series" not in person.get("files", {}):
        abort(404, description=f"There is no person with track ID {track_id} in this job.")
    response = send_from_directory(job_folder(job.id), person["files"]["series"], mimetype="application/json",
                                   conditional=True)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.get("/jobs/<job_id>/people/<int:track_id>/report.pdf")
def job_person_report(job_id: str, track_id: int) -> Response:
    """A person's report (``pipeline.people_report``), as a PDF download: the video's details,
    a thumbnail, the facing over time, the repetitions and every angle's curve with its range of
    motion. Made on the first request (about a second) and kept as
    ``people/person_<id>_report.pdf``; made again after a facing override."""
    job = get_job_or_404(job_id)
    document = json.loads(_people_path(job).read_text(encoding="utf-8"))
    person = next((p for p in document.get("people", []) if p["id"] == track_id), None)
    if person is None or "series" not in person.get("files", {}):
        abort(404, description=f"There is no person with track ID {track_id} in this job.")
    shots = sorted((t, name) for name in job.outputs.get("screenshots", [])
                   if (t := screenshot_time(name)) is not None)
    thumb = _thumbnail(person, shots)
    folder = job_folder(job.id)
    # matplotlib is imported here, for this request only (the other views serve files).
    from pipeline.people_report import write_person_report

    path = write_person_report(folder, track_id, source_name=job.source_name or job.id,
                               thumbnail=folder / thumb["name"] if thumb else None,
                               box=thumb["box"] if thumb else None)
    return send_from_directory(folder, path.relative_to(folder).as_posix(), mimetype="application/pdf",
                               as_attachment=True, download_name=f"person_{track_id}_report.pdf")


@bp.get("/jobs/<job_id>/people/<int:track_id>/reps")
def job_person_reps(job_id: str, track_id: int) -> Response:
    """A person's repetitions (``analysis.reps``): ``{id, angle, automatic, reps: [{rep, start_s,
    end_s, turn_s, min_degrees, max_degrees, range_degrees, duration_s, out_s, hold_s, back_s,
    tempo, start_frame, end_frame}], available: [joint angles]}``; ``?angle=right_knee`` for
    another joint angle than the automatic one (the largest periodic range)."""
    job = get_job_or_404(job_id)
    document = json.loads(_people_path(job).read_text(encoding="utf-8"))
    person = next((p for p in document.get("people", []) if p["id"] == track_id), None)
    if person is None or "series" not in person.get("files", {}):
        abort(404, description=f"There is no person with track ID {track_id} in this job.")
    series = json.loads((job_folder(job.id) / person["files"]["series"]).read_text(encoding="utf-8"))
    reps = series.get("reps")
    if reps is None:
        abort(404, description="This job's people were analysed before repetitions were counted: upload the "
                               "video again to get them.")
    angle = request.args.get("angle") or reps["angle"]
    if angle is not None and angle not in reps["by_angle"]:
        abort(400, description=f"angle must be one of the joint angles {', '.join(reps['by_angle'])}; got {angle!r}")
    return jsonify({"id": track_id, "angle": angle, "automatic": reps["angle"],
                    "reps": reps["by_angle"].get(angle, []) if angle else [], "available": list(reps["by_angle"])})


@bp.post("/jobs/<job_id>/people/<int:track_id>/facing")
def job_person_facing(job_id: str, track_id: int) -> tuple[Response, int]:
    """Set which way a person faces for their whole track (``facing``: ``left``, ``right``,
    ``frontal``, ``back``; ``auto`` decides frame by frame again), as JSON or a form field. Their
    angles are derived again from their keypoints (no inference) and every export that holds
    them is rewritten; answers their new entry of the people list (as ``GET .../people``)."""
    job = get_job_or_404(job_id)
    _people_path(job)
    body = request.get_json(silent=True) if request.is_json else None
    facing = (body or {}).get("facing") if isinstance(body, dict) else request.form.get("facing")
    if not facing:
        abort(400, description="Say which way the person faces: facing = left, right, frontal, back or auto.")
    # Deriving angles takes numpy: imported here, for this request only (the other views
    # serve the worker's files and never load it).
    from pipeline.people_facing import FacingError, set_facing

    try:
        summary = set_facing(job_folder(job.id), track_id, str(facing))
    except FacingError as error:
        status = 404 if "no person" in str(error) else 400
        abort(status, description=str(error))
    shots = sorted((t, name) for name in job.outputs.get("screenshots", [])
                   if (t := screenshot_time(name)) is not None)
    return jsonify(person_json(job, summary, shots)), 200

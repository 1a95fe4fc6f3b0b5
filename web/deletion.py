"""The owner deletes a job: ``DELETE /api/jobs/<id>`` (scripts) and the job page's form.

The rule is cancel's: whoever holds the job's id (its unguessable URL) may delete it, so a
script needs no cookie; a browser that sends the session cookie must send the CSRF token, as
for every change (``web.session``). The record, the upload and the outputs go at once; a run
still working on the job stops within a second and discards what it wrote. Afterwards the id
is a 404.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from werkzeug.wrappers import Response

from jobs import JobNotFound
from jobs.retention import delete_job
from web.state import get_job_or_404, state

bp = Blueprint("deletion", __name__)


def _delete(job_id: str) -> str:
    """Delete the job (404 if there is none); returns its video's name."""
    job = get_job_or_404(job_id)
    try:
        delete_job(state().store, state().settings, job_id)
    except JobNotFound:  # deleted by someone else meanwhile: the same outcome
        pass
    return job.source_name


@bp.delete("/api/jobs/<job_id>")
def delete_api(job_id: str) -> tuple[str, int]:
    _delete(job_id)
    return "", 204


@bp.post("/jobs/<job_id>/delete")
def delete_page(job_id: str) -> Response:
    name = _delete(job_id)
    flash(f"{name} and everything made from it were deleted.")
    return redirect(url_for("pages.my_jobs"), code=303)

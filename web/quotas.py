"""Bounds on job creation: one upload form cannot queue more than ``MAX_FILES_PER_UPLOAD``
videos (400, nothing queued), and one browser session cannot have more than
``MAX_JOBS_PER_SESSION`` jobs queued or running at once (429, with what to do). Callers without
a session cookie (scripts) share one such quota.

Two requests of one session at the same moment may both pass the count and end one or two jobs
over the bound (one per upload slot at most); the bound is against floods, not a ledger.
"""
from __future__ import annotations

from jobs.queries import count_active
from web.state import state
from web.uploads import UploadError


def check_files_per_upload(count: int) -> None:
    most = state().settings.max_files_per_upload
    if count > most:
        raise UploadError(f"At most {most} videos can be sent in one upload; {count} were sent. "
                          "Nothing was queued: send them in smaller groups.", status=400)


def check_jobs_per_session(owner: str | None, adding: int = 1) -> None:
    most = state().settings.max_jobs_per_session
    active = count_active(state().store, owner)
    if active + adding > most:
        room = max(0, most - active)
        raise UploadError(f"This session already has {active} jobs queued or running, and at most {most} "
                          f"may wait at once ({room} more now). Nothing was queued: wait for some to "
                          "finish, or cancel some, then send again.", status=429)

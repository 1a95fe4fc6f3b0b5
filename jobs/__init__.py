"""The job store: job records and states (:mod:`jobs.store`) and where job files live
(:mod:`jobs.paths`). Shared by the web app and the workers."""
from __future__ import annotations

from jobs.paths import check_job_id, output_dir, remove_job_files, upload_path
from jobs.store import Job, JobNotFound, JobState, JobStateError, JobStore, database_unavailable

__all__ = [
    "Job", "JobNotFound", "JobState", "JobStateError", "JobStore",
    "check_job_id", "database_unavailable", "output_dir", "remove_job_files", "upload_path",
]

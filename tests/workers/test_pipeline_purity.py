"""The pipeline is a plain library under the job store: a CLI, a test or a Celery task calls it."""
from __future__ import annotations


def test_pipeline_import_pulls_in_no_web_queue_or_job_store_modules(modules_loaded_by) -> None:
    assert modules_loaded_by("workers.pipeline", {"flask", "celery", "kombu", "redis", "jobs", "web",
                                                  "sqlalchemy"}) == []

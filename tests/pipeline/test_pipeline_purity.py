"""The pipeline is a plain library under the job store: a CLI, a test or a Celery task calls it.

Every module of ``pipeline/`` is imported in a fresh interpreter; none may pull in the web, the
queue, the job store or the worker service around it (DESIGN.md's layers)."""
from __future__ import annotations

from pathlib import Path

import pytest

SERVICE_AND_WEB = {"flask", "celery", "kombu", "redis", "jobs", "web", "workers", "sqlalchemy"}
PIPELINE_MODULES = sorted(f"pipeline.{path.stem}" for path in
                          (Path(__file__).resolve().parents[2] / "pipeline").glob("*.py")
                          if path.stem != "__init__")


def test_the_pipeline_package_has_its_modules() -> None:
    assert {"pipeline.video", "pipeline.images", "pipeline.multiview"} <= set(PIPELINE_MODULES)


@pytest.mark.parametrize("entry", ["pipeline.video", "pipeline.images", "pipeline.multiview"])
def test_an_entry_point_pulls_in_no_web_queue_job_store_or_worker_modules(modules_loaded_by, entry) -> None:
    assert modules_loaded_by(entry, SERVICE_AND_WEB) == []


def test_no_pipeline_module_pulls_in_the_service(modules_loaded_by) -> None:
    assert modules_loaded_by(", ".join(PIPELINE_MODULES), SERVICE_AND_WEB) == []

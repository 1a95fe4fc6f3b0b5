"""The pipeline is a plain library under the job store: a CLI, a test or a Celery task calls it."""
from __future__ import annotations

import subprocess
import sys


def test_pipeline_import_pulls_in_no_web_queue_or_job_store_modules() -> None:
    code = (
        "import sys, workers.pipeline; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'flask', 'celery', 'kombu', 'redis', 'jobs', 'web', 'sqlalchemy'}); print(bad)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"

"""videoio is a pure library: no web/queue imports, no environment, no prints, no logging setup."""
from __future__ import annotations

import re
from pathlib import Path

import videoio

PACKAGE = Path(videoio.__file__).parent


def test_import_pulls_in_no_web_or_queue_modules(modules_loaded_by) -> None:
    assert modules_loaded_by("videoio", {"flask", "celery", "redis", "jobs", "web", "workers", "sqlalchemy"}) == []


def test_source_has_no_prints_environment_or_logging_setup() -> None:
    forbidden = re.compile(r"\bprint\(|os\.environ|getenv\(|logging\.basicConfig|av\.logging\.set_level")
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if forbidden.search(line)
    ]
    assert offenders == []

"""multiview/ is a pure library: importing it pulls in no web, queue, store, pipeline or video
code, and its source neither reads the environment nor prints nor configures logging."""
from __future__ import annotations

import re
from pathlib import Path

import multiview

FORBIDDEN = {"flask", "celery", "redis", "sqlalchemy", "web", "jobs", "workers", "videoio", "posestudio"}
FORBIDDEN_SOURCE = (r"os\.environ", r"os\.getenv", r"\bprint\(", r"logging\.basicConfig", r"\.setLevel\(",
                    r"addHandler\(")


def test_importing_multiview_loads_no_service_module(modules_loaded_by) -> None:
    imports = ", ".join(f"multiview.{p.stem}" for p in Path(multiview.__file__).parent.glob("*.py")
                        if p.stem != "__init__")
    assert modules_loaded_by(imports, FORBIDDEN) == []


def test_multiview_source_has_no_environment_print_or_logging_setup() -> None:
    sources = sorted(Path(multiview.__file__).resolve().parent.glob("*.py"))
    assert len(sources) >= 10
    offences = [f"{path.name}: {pattern}" for path in sources for pattern in FORBIDDEN_SOURCE
                if re.search(pattern, path.read_text())]
    assert offences == []

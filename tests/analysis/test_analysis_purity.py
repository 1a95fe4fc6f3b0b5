"""analysis/ is a pure library: importing it pulls in no web, queue, store, pose or tracking
code, and its source neither reads the environment nor prints nor configures logging."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import analysis

FORBIDDEN_MODULES = ("flask", "celery", "redis", "sqlalchemy", "pose", "tracking", "web", "jobs", "workers",
                     "videoio", "cv2", "openvino")
FORBIDDEN_SOURCE = (r"os\.environ", r"os\.getenv", r"\bprint\(", r"logging\.basicConfig",
                    r"\.setLevel\(", r"addHandler\(", r"np\.random\.seed")


def test_importing_analysis_loads_no_forbidden_module() -> None:
    code = ("import sys, analysis, analysis.angles, analysis.calibration, analysis.facing, analysis.opensim,"
            " analysis.points, analysis.reps, analysis.swaps\n"
            f"bad = [m for m in {FORBIDDEN_MODULES!r} if m in sys.modules]\n"
            "print(','.join(bad))")
    root = Path(analysis.__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.strip() == ""


def test_analysis_source_has_no_environment_print_or_logging_setup() -> None:
    sources = sorted(Path(analysis.__file__).resolve().parent.glob("*.py"))
    assert len(sources) >= 5
    offences = [f"{path.name}: {pattern}" for path in sources for pattern in FORBIDDEN_SOURCE
                if re.search(pattern, path.read_text())]
    assert offences == []

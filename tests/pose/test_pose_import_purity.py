"""pose/ is a pure library: importing it pulls in no web/queue/job code, reads no environment
variables, and its source neither prints nor configures logging."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

POSE_DIR = Path(__file__).resolve().parents[2] / "pose"
FORBIDDEN_MODULES = ("flask", "celery", "redis", "sqlalchemy", "jobs", "web", "workers", "tracking", "videoio",
                     "mediapipe", "torch")  # mediapipe, torch: only when their estimator is made

PROBE = r"""
import os, sys, traceback
pose_dir = sys.argv[1]
reads = []

class Recorder(dict):
    def _note(self):
        caller = traceback.extract_stack()[-3]  # below _note and the accessor: who asked
        if caller.filename.startswith(pose_dir):
            reads.append(f"{caller.filename}:{caller.lineno}")
    def __getitem__(self, key):
        self._note(); return super().__getitem__(key)
    def get(self, key, default=None):
        self._note(); return super().get(key, default)
    def __contains__(self, key):
        self._note(); return super().__contains__(key)

os.environ = Recorder(os.environ)
real_getenv = os.getenv
def getenv(key, default=None):
    Recorder._note(os.environ); return real_getenv(key, default)
os.getenv = getenv

import pose, pose.backends, pose.draw, pose.estimator, pose.imagefile, pose.models, pose.blazepose, pose.registry, pose.caffe_format, pose.caffe_openpose, pose.keypointrcnn
forbidden = [m for m in sys.argv[2].split(",") if m in sys.modules]
print("FORBIDDEN", forbidden)
print("ENV", reads)
"""


def test_importing_pose_pulls_in_nothing_forbidden_and_reads_no_environment() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(POSE_DIR), ",".join(FORBIDDEN_MODULES)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "FORBIDDEN []" in result.stdout, result.stdout
    assert "ENV []" in result.stdout, result.stdout


def test_pose_source_has_no_prints_environment_or_logging_setup() -> None:
    pattern = re.compile(r"\bprint\(|os\.environ|os\.getenv|getenv\(|logging\.basicConfig|^import (flask|celery|redis)",
                         re.MULTILINE)
    offenders = []
    files = sorted(POSE_DIR.rglob("*.py"))
    assert len(files) >= 8
    for path in files:
        for match in pattern.finditer(path.read_text()):
            offenders.append(f"{path.name}: {match.group(0)}")
    assert offenders == []

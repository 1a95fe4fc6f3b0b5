"""Fixtures shared by the whole suite: the real data beside the repository, the real model,
and a folder for artifacts (page screenshots, sample outputs) that a person can look at."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

import config

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (see its README); tests that need it skip, saying why, where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real evaluation data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def videos_dir(shared_data: Path) -> Path:
    return shared_data / "videos"


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The real graph; `make setup` fetches it, so in CI it is always there."""
    path = config.DEFAULT_MODEL_PATH
    if not path.is_file():
        pytest.skip(f"model not found at {path}: run `make setup`")
    return path


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def modules_loaded_by() -> Callable[[str, set[str]], list[str]]:
    """``probe("pipeline.video", {"flask", ...})``: import the named modules in a fresh
    interpreter and return the modules it loaded whose top-level package is one of the given names
    (sorted), to hold the import layers of DESIGN.md."""
    def probe(imports: str, top_level: set[str]) -> list[str]:
        code = (f"import sys, {imports}; print(','.join(sorted(m for m in sys.modules "
                f"if m.split('.')[0] in {sorted(top_level)!r})))")
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                                text=True, timeout=60, check=True)
        return [name for name in result.stdout.strip().split(",") if name]
    return probe


@pytest.fixture(scope="session")
def blazepose_estimator_factory():
    """Makes BlazePose estimators (``factory()``); skips, saying why, where mediapipe is not
    installed (`make setup` installs it from requirements-blazepose.txt)."""
    pytest.importorskip("mediapipe", reason="mediapipe is not installed: run `make setup` (requirements-blazepose.txt)")
    from pose.models import load_estimator

    return lambda **kwargs: load_estimator("blazepose", **kwargs)

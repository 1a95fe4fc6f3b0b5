"""Fixtures shared by the whole suite: the real data beside the repository, the real model,
and a folder for artifacts (page screenshots, sample outputs) that a person can look at."""
from __future__ import annotations

from pathlib import Path

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

"""Fixtures for the videoio tests (clip generators live in videoio_clips.py)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from videoio_clips import make_clip


@pytest.fixture()
def clip_factory(tmp_path: Path) -> Callable[..., Path]:
    """make_clip writing into the test's tmp_path: ``clip_factory("name.mp4", frames=5, ...)``."""

    def factory(name: str, **kwargs: object) -> Path:
        return make_clip(tmp_path / name, **kwargs)  # type: ignore[arg-type]

    return factory

"""Configuration lives here and nowhere else; libraries receive it as explicit arguments.

Paths default to folders in the repository; every web/worker setting can be overridden by an
environment variable of the same name (documented in the README).
"""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent
DEFAULT_MODEL_PATH = ROOT / "models" / "graph_opt.pb"
DEFAULT_OUTPUTS_DIR = ROOT / "outputs"
DEFAULT_UPLOADS_DIR = ROOT / "uploads"

"""tests/web/web_helpers.py for tests outside tests/web (its folder is on ``sys.path`` only when
web tests are collected): ``web_helpers().chromium()``, loaded by path once."""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from types import ModuleType


@lru_cache(maxsize=1)
def web_helpers() -> ModuleType:
    path = Path(__file__).resolve().parent / "web" / "web_helpers.py"
    spec = importlib.util.spec_from_file_location("web_helpers_by_path", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

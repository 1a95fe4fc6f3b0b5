"""File names that come from people (an upload's name, a video named on the command line) made
fit to be part of a file name: an export's ZIP entries, a download's name. Standard library only,
so that the job store, the web app and the pipeline can all use it without importing each other."""
from __future__ import annotations

import re


def safe_file_name(name: str | None, default: str = "video") -> str:
    """A person's file name (as their browser or script sent it: anything) fit to be part of a
    file name, here or in a download: its last path component (``/`` or ``\\``), with anything
    but letters, digits, ``.``, ``-``, ``_`` and spaces made ``_``; ``default`` if nothing is left."""
    base = re.split(r"[\\/]", name or "")[-1]
    return re.sub(r"[^\w. -]+", "_", base).strip(" .") or default

"""A small tmpfs for the full-disk tests (they run as root here and in CI; elsewhere they skip,
saying why), and a way to fill it up and free it again."""
from __future__ import annotations

import os
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

FILLER = ".filler"


@contextmanager
def small_disk(path: Path, size: str) -> Iterator[Path]:
    """``path`` (made if missing) with a tmpfs of ``size`` (``"2m"``) mounted on it, unmounted after."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs for a full disk needs root")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
                            capture_output=True, text=True)
    if result.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path, *, leave_bytes: int = 0) -> None:
    """Fill ``disk`` up to ``leave_bytes`` free (at least what one more block needs)."""
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with open(disk / FILLER, "ab") as f:
        try:
            f.write(b"\0" * max(0, free - leave_bytes))
        except OSError:  # full already
            pass


def free(disk: Path) -> None:
    (disk / FILLER).unlink(missing_ok=True)

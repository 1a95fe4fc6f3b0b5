"""A small tmpfs for the full-disk tests (they run as root here and in CI; elsewhere they skip,
saying why), and a way to fill it up and free it again."""
from __future__ import annotations

import errno
import os
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

FILLER = ".filler"


@contextmanager
def small_disk(path: Path, size: str = "256k") -> Iterator[Path]:
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


def _free_bytes(disk: Path) -> int:
    stats = os.statvfs(disk)
    return stats.f_bavail * stats.f_frsize


def fill(disk: Path, *, leave_bytes: int = 0) -> Path:
    """Fill ``disk`` up to ``leave_bytes`` free (at least what one more block needs); with none
    left, to the last block. Returns the filler file (:func:`free` or unlinking it frees the disk)."""
    filler = disk / FILLER
    with open(filler, "ab", buffering=0) as f:
        try:
            f.write(b"\0" * max(0, _free_bytes(disk) - leave_bytes))
            while leave_bytes == 0:  # a write short of the last block: the rest, a block at a time
                f.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    if leave_bytes == 0:
        assert _free_bytes(disk) == 0
    return filler


def free(disk: Path) -> None:
    (disk / FILLER).unlink(missing_ok=True)

"""workers.memory: with the mmap threshold fixed, large freed blocks leave the process at once."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# glibc raises its mmap threshold to the size of a freed mapped block (here 24 MiB; at most 32 MiB), so the next
# 16 MiB blocks come from the heap; the last one, on top, keeps the heap from shrinking when the
# others are freed. The child prints how many MiB of RSS the seven freed blocks still hold.
CHILD = """
import sys
import numpy as np
from workers.memory import return_freed_memory_at_once

def rss_mib():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmRSS:")) / 1024

if sys.argv[1] == "fixed":
    assert return_freed_memory_at_once()
big = np.ones(24 * 1024**2, np.uint8)
del big
blocks = [np.ones(16 * 1024**2, np.uint8) for _ in range(8)]
before = rss_mib()
del blocks[:-1]
print(round(before - rss_mib()))
"""


def freed_mib(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", CHILD, mode], cwd=ROOT, capture_output=True, text=True,
                          check=True, timeout=60)
    return int(done.stdout.strip())


def test_large_freed_blocks_go_back_to_the_system_only_with_the_fixed_threshold() -> None:
    assert freed_mib("default") < 16  # glibc kept the 112 MiB of freed blocks
    assert freed_mib("fixed") >= 100

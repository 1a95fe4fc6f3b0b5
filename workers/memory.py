"""Freed memory goes back to the system at once, in a worker that meets large frames now and then.

glibc serves blocks of at least its mmap threshold (128 KiB) from their own mappings, which are
returned when freed, but after such a block is freed it raises the threshold to that block's
size (up to 32 MiB), so the next ones of that size come from the heap and stay in the process
when freed. One job's 4K frames and large heatmaps then count towards the worker's RSS for the
jobs after it: bench/abuse_memory.py's sequence of the worst accepted jobs peaked 2.1 GB with
the moving threshold and 1.6 GB with it fixed, for about 10 ms more system time per 1080p frame.
"""
from __future__ import annotations

import ctypes
import ctypes.util

#: glibc's ``M_MMAP_THRESHOLD`` mallopt parameter (malloc.h).
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 128 * 1024


def return_freed_memory_at_once() -> bool:
    """Fix glibc's mmap threshold at :data:`MMAP_THRESHOLD_BYTES` (this stops it moving) for
    this process. Returns False, changing nothing, where the C library is not glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1

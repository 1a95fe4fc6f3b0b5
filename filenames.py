"""File names that come from people (an upload's name, a video named on the command line) made
fit to be part of a file name: an export's ZIP entries, a download's name. Standard library only,
so that the job store, the web app and the pipeline can all use it without importing each other.

A file name (one path component) may be at most :data:`MAX_NAME_BYTES` bytes on Linux file
systems (ext4, XFS, btrfs) and for ``unzip``; counted in UTF-8, so ``'é'`` takes 2 and ``'日'`` 3.
"""
from __future__ import annotations

import re
import unicodedata

#: The longest file name ext4, XFS, btrfs (and so ``unzip`` and Python's ``zipfile`` extracting
#: there) accept, in bytes of UTF-8. It also keeps NTFS's limit of 255 UTF-16 units.
MAX_NAME_BYTES = 255
#: A longer "extension" (``a.<300 letters>``) is part of the name, cut like the rest of it.
MAX_EXTENSION_BYTES = 16


def fit_stem(stem: str, *, room_for: str = "", max_bytes: int = MAX_NAME_BYTES) -> str:
    """``stem`` cut at a character boundary so that ``stem + room_for`` (the suffix that the
    caller adds: an extension, a frame number) is at most ``max_bytes`` bytes in UTF-8.
    Trailing spaces and dots of a cut stem are dropped (Windows refuses a name ending in them)."""
    room = max_bytes - len(room_for.encode())
    if room < 1:
        raise ValueError(f"a suffix of {len(room_for.encode())} bytes leaves no room in {max_bytes}")
    encoded = stem.encode()
    if len(encoded) <= room:
        return stem
    return encoded[:room].decode("utf-8", "ignore").rstrip(" .")


def safe_file_name(name: str | None, default: str = "video", *, max_bytes: int = MAX_NAME_BYTES) -> str:
    """A person's file name (as their browser or script sent it: anything) fit to be part of a
    file name, here or in a download: its last path component (``/`` or ``\\``), in Unicode
    NFC (a Mac's decomposed ``e`` + accent becomes ``é``), with anything but letters, digits,
    ``.``, ``-``, ``_`` and spaces made ``_``; ``default`` if nothing is left. Longer than
    ``max_bytes`` in UTF-8, the name before the extension is cut; the extension is kept."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name or ""))[-1]
    safe = re.sub(r"[^\w. -]+", "_", base).strip(" .") or default
    stem, dot, extension = safe.rpartition(".")
    if not dot or not stem or len(extension.encode()) > MAX_EXTENSION_BYTES:
        return fit_stem(safe, max_bytes=max_bytes) or default
    return (fit_stem(stem, room_for=dot + extension, max_bytes=max_bytes) or default) + dot + extension

"""The photos inside an uploaded ZIP, taken out without trusting the archive.

Only plain entries with an image suffix directly usable as a name are extracted, each into a
file this module names (never a path from the archive). Refused, each with a warning that
names the entry: names with ``..``, an absolute path or a drive letter; nested archives (not
opened); entries that inflate past ``max_entry_bytes`` or whose compression ratio is beyond
:data:`MAX_RATIO` (a ZIP bomb); anything else is skipped with a warning. The sizes the archive
declares are never trusted: inflation is counted as it happens and stopped at the limit.
Too many entries (over ``max_entries``) refuse the whole archive before anything is read.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from pose.photos import PHOTO_SUFFIXES

#: Inflated / compressed beyond this (and over a megabyte) is a bomb, not a photo: photos
#: hardly compress at all (JPEG ~1.0x, PNG of a photo ~1.1x), a BMP of a flat image perhaps 50x.
MAX_RATIO = 200
_CHUNK = 1024 * 1024
_ARCHIVE_SUFFIXES = (".zip", ".7z", ".rar", ".tar", ".gz", ".tgz", ".bz2", ".xz")


class ArchiveError(Exception):
    """The archive as a whole cannot be used; the message names it and says why.
    ``too_large``: refused for its size (too many entries, or inflating too far)."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


@dataclass
class Extracted:
    """``photos``: (name in the archive, extracted path) in archive order; ``warnings``: one
    per entry left out, naming it."""

    photos: list[tuple[str, Path]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def extract_photos(archive: Path, dest: Path, *, name: str, max_entries: int, max_entry_bytes: int,
                   max_total_bytes: int, first_index: int = 1) -> Extracted:
    """Extract the photos of ZIP ``archive`` (the owner calls it ``name``) into ``dest`` as
    ``%06d`` files numbered from ``first_index``. Raises ArchiveError for a file that is not a
    ZIP, an encrypted one, more than ``max_entries`` entries or more than ``max_total_bytes``
    inflated in all."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ArchiveError(f"{name}: not a ZIP archive (or a damaged one)") from None
    out = Extracted()
    with zf:
        entries = zf.infolist()
        if len(entries) > max_entries:
            raise ArchiveError(f"{name}: holds {len(entries):,} entries, over the {max_entries:,} an archive may "
                               "hold (4 x MAX_IMAGES + 100); send fewer images per job", too_large=True)
        total, index = 0, first_index
        for info in entries:
            if info.is_dir():
                continue
            problem = _refusal(info)
            if problem:
                out.warnings.append(f"{name}: {info.filename!r}: {problem}")
                continue
            target = dest / f"{index:06d}"
            room = max_total_bytes - total
            try:
                written = _inflate(zf, info, target, limit=min(max_entry_bytes, room))
            except _TooLarge:
                target.unlink(missing_ok=True)
                if room < max_entry_bytes:
                    raise ArchiveError(f"{name}: inflates to more than {max_total_bytes / 1024**2:,.0f} MiB "
                                       "in all (MAX_UPLOAD_MB); refused (a ZIP bomb?)", too_large=True) from None
                out.warnings.append(f"{name}: {info.filename!r}: inflates to more than "
                                    f"{max_entry_bytes / 1024**2:,.0f} MiB; skipped (a ZIP bomb?)")
                continue
            except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError) as exc:
                target.unlink(missing_ok=True)
                reason = "encrypted" if "encrypted" in str(exc) or "password" in str(exc) else "damaged"
                out.warnings.append(f"{name}: {info.filename!r}: cannot be extracted ({reason}); skipped")
                continue
            if info.compress_size and written > 1024**2 and written / info.compress_size > MAX_RATIO:
                target.unlink()
                out.warnings.append(f"{name}: {info.filename!r}: compresses {written / info.compress_size:,.0f} "
                                    "times; not a photo (a ZIP bomb?); skipped")
                continue
            total += written
            out.photos.append((PurePosixPath(info.filename).name, target))
            index += 1
    return out


def _refusal(info: zipfile.ZipInfo) -> str | None:
    """Why an entry is not extracted, or None."""
    raw = info.filename.replace("\\", "/")
    parts = raw.split("/")
    if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":") or ".." in parts:
        return "its path leaves the archive (absolute, or with '..'); skipped"
    base = parts[-1]
    suffix = PurePosixPath(base).suffix.lower()
    if suffix in _ARCHIVE_SUFFIXES:
        return "an archive inside the archive; nested archives are not opened"
    if parts[0] == "__MACOSX" or base.startswith("."):
        return "a hidden or system file; skipped"
    if suffix not in PHOTO_SUFFIXES:
        return f"not an image ({suffix or 'no extension'}); skipped"
    if info.flag_bits & 0x1:
        return "encrypted; skipped"
    return None


class _TooLarge(Exception):
    """An entry inflated past its limit."""


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, *, limit: int) -> int:
    """Inflate ``info`` into ``target``, counting: _TooLarge as soon as it passes ``limit``."""
    written = 0
    with zf.open(info) as source, open(target, "wb") as sink:
        while True:
            chunk = source.read(_CHUNK)
            if not chunk:
                return written
            written += len(chunk)
            if written > limit:
                raise _TooLarge()
            sink.write(chunk)

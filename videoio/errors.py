"""Exceptions raised by :mod:`videoio`.

Every failure that comes from a bad input file surfaces as a :class:`VideoError` subclass whose
message says what is wrong with the file and what a person can do about it; PyAV/FFmpeg
exceptions never leak past the package's API.
"""
from __future__ import annotations


class VideoError(Exception):
    """Base class: the file cannot be used as a video input (or an output could not be written)."""


class NotAVideoError(VideoError):
    """The file is not a media file FFmpeg recognises, or it has no video stream (e.g. audio only)."""


class EmptyVideoError(VideoError):
    """The file is empty (0 bytes) or its video stream holds no frames."""


class CorruptVideoError(VideoError):
    """The file looks like a video but is truncated or undecodable."""


class UnsupportedVideoError(VideoError):
    """A valid video this installation will not process (no decoder, absurd dimensions, ...)."""


class VideoWriteError(VideoError):
    """The output video could not be encoded or written (disk full, unwritable folder, ...).
    ``errno``: the OS's error number when the OS refused (``errno.ENOSPC``: the disk is full),
    else None."""

    def __init__(self, message: str, *, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno

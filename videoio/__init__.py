"""Video I/O with PyAV: probe, decode upright BGR frames, encode browser-playable H.264 MP4.

A pure library: no Flask/Celery/Redis, no environment, no logging configuration, no prints.
"""
from __future__ import annotations

from videoio.errors import (
    CorruptVideoError,
    EmptyVideoError,
    NotAVideoError,
    UnsupportedVideoError,
    VideoError,
    VideoWriteError,
)
from videoio.images import write_jpeg
from videoio.probe import VideoInfo, probe
from videoio.reader import Frame, VideoReader, frames_in_range
from videoio.writer import VideoWriter, even_size

__all__ = [
    "CorruptVideoError",
    "EmptyVideoError",
    "Frame",
    "NotAVideoError",
    "UnsupportedVideoError",
    "VideoError",
    "VideoInfo",
    "VideoReader",
    "VideoWriteError",
    "VideoWriter",
    "even_size",
    "frames_in_range",
    "probe",
    "write_jpeg",
]

"""Opening an input file with PyAV and turning FFmpeg's failures into :mod:`videoio` errors.

Internal to the package: :func:`videoio.probe` and :class:`videoio.VideoReader` share it.
"""
from __future__ import annotations

from pathlib import Path

import av
import av.container

from videoio.errors import (
    CorruptVideoError,
    EmptyVideoError,
    NotAVideoError,
    UnsupportedVideoError,
    VideoError,
)

#: Largest width or height accepted (a 8K UHD frame is 7680x4320).
MAX_DIMENSION = 8192

# First bytes of container formats that FFmpeg reads; a file that starts like one of these but
# does not open is damaged (typically an interrupted upload), not "some other kind of file".
_MP4_BOX_TYPES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot")


def _looks_like_video_container(head: bytes) -> str | None:
    """Name of the container family ``head`` (the first bytes of a file) starts like, else None."""
    if len(head) >= 8 and head[4:8] in _MP4_BOX_TYPES:
        return "MP4/MOV"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "AVI"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "Matroska/WebM"
    if head[:3] == b"FLV":
        return "FLV"
    if head[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"):
        return "MPEG"
    return None


def open_input(path: Path) -> av.container.InputContainer:
    """Open ``path`` for demuxing; raise a :class:`VideoError` subclass if that is impossible."""
    name = path.name
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise VideoError(f"{name}: file not found") from None
    except OSError as exc:
        raise VideoError(f"{name}: cannot read the file ({exc.strerror})") from None
    if not path.is_file():
        raise NotAVideoError(f"{name} is not a regular file")
    if size == 0:
        raise EmptyVideoError(f"{name} is empty (0 bytes): upload the file again")
    try:
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        with path.open("rb") as handle:
            family = _looks_like_video_container(handle.read(16))
        if family is not None:
            raise CorruptVideoError(
                f"{name} starts like an {family} file but cannot be opened ({_reason(exc)}); "
                "it is probably truncated or damaged: upload the complete file again"
            ) from None
        raise NotAVideoError(
            f"{name} is not a video file FFmpeg can read ({_reason(exc)})"
        ) from None
    except (UnicodeDecodeError, ValueError, OSError) as exc:
        raise NotAVideoError(f"{name} is not a video file FFmpeg can read ({_reason(exc)})") from None


def first_video_stream(container: av.container.InputContainer, name: str) -> av.video.stream.VideoStream:
    """The first video stream, checked for a decoder and sane dimensions."""
    videos = [s for s in container.streams.video if not _is_attached_picture(s)]
    if not videos and not list(container.streams):
        raise EmptyVideoError(f"{name} holds no streams at all (no frames): upload a video with content")
    if not videos:
        kinds = sorted({s.type for s in container.streams})
        found = f" (it holds only {', '.join(kinds)})" if kinds else ""
        raise NotAVideoError(f"{name} has no video stream{found}")
    stream = videos[0]
    if _is_still_image(container):
        raise NotAVideoError(f"{name} is a still image ({container.format.name[:-5]}), not a video")
    if stream.codec_context is None:
        raise UnsupportedVideoError(
            f"{name}: this FFmpeg build has no decoder for its video codec; convert it to H.264"
        )
    check_dimensions(stream.codec_context.width, stream.codec_context.height, name)
    return stream


def check_dimensions(width: int, height: int, name: str) -> None:
    """Raise UnsupportedVideoError for frames larger than :data:`MAX_DIMENSION` on a side."""
    if width > MAX_DIMENSION or height > MAX_DIMENSION:
        raise UnsupportedVideoError(
            f"{name} is {width}x{height}; frames larger than {MAX_DIMENSION} pixels on a side "
            "are not supported: scale the video down first"
        )


def _is_still_image(container: av.container.InputContainer) -> bool:
    """FFmpeg opens a JPEG/PNG/... as a one-frame video through an ``*_pipe`` image demuxer."""
    format_name = container.format.name
    return format_name == "image2" or format_name.endswith("_pipe")


def _is_attached_picture(stream: av.stream.Stream) -> bool:
    """Cover art in an audio file shows up as a one-frame 'video' stream; it is not a video."""
    try:
        return bool(stream.disposition & av.stream.Disposition.attached_pic)
    except (AttributeError, TypeError):
        return False


def _reason(exc: BaseException) -> str:
    """FFmpeg's (or the OS's) own words for an error, without the file path it embeds: messages
    reach web users, and the path is the server's."""
    return (getattr(exc, "strerror", None) or str(exc)).strip().rstrip(".").lower()

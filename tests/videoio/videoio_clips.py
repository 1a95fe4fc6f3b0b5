"""Small clips generated with PyAV for the videoio tests, plus an MP4 box reader.

Every generated frame carries a red 8x8 marker in its top-left corner (to check orientation)
and a grey level that encodes its index (to check order).
"""
from __future__ import annotations

import struct
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

MARKER = 8


def frame_image(index: int, width: int, height: int) -> np.ndarray:
    """uint8 BGR (height, width, 3): grey level 10 * index (mod 200) + 20, red marker top-left."""
    image = np.full((height, width, 3), 20 + (10 * index) % 200, np.uint8)
    image[:MARKER, :MARKER] = (0, 0, 255)
    return image


def make_clip(
    path: Path,
    *,
    width: int = 64,
    height: int = 48,
    frames: int = 10,
    fps: Fraction = Fraction(25),
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    container_format: str | None = None,
    container_options: dict[str, str] | None = None,
    rotation_ccw: int | None = None,
    pts: Sequence[int] | None = None,
    time_base: Fraction | None = None,
    audio_codec: str | None = None,
    audio_rate: int = 48000,
    audio_start_s: float = 0.0,
    state_rate: bool = True,
) -> Path:
    """Write a test clip; ``pts`` (in ``time_base``) gives irregular timestamps for VFR; the
    audio tone (if any) runs from ``audio_start_s`` to the end of the video. ``state_rate=False``
    writes no frame rate into the file (as a browser's MediaRecorder does)."""
    container = av.open(str(path), "w", format=container_format, options=container_options or {})
    video = container.add_stream(codec, rate=fps)
    video.width, video.height, video.pix_fmt = width, height, pix_fmt
    if time_base is not None:
        video.codec_context.time_base = time_base
        video.time_base = time_base
    if not state_rate:
        video.codec_context.framerate = Fraction(0, 1)
    if rotation_ccw is not None:
        video.set_display_rotation(rotation_ccw)
    audio = _add_audio(container, audio_codec, audio_rate) if audio_codec else None
    if frames == 0:
        container.start_encoding()
    for index in range(frames):
        frame = av.VideoFrame.from_ndarray(frame_image(index, width, height), format="bgr24")
        if pts is not None:
            frame.pts, frame.time_base = pts[index], time_base
        for packet in video.encode(frame):
            container.mux(packet)
    for packet in video.encode(None):
        container.mux(packet)
    if audio is not None:
        duration = float(frames / fps)
        _write_tone(container, audio, duration - audio_start_s, start_s=audio_start_s)
    container.close()
    return path


def _add_audio(container: av.container.OutputContainer, codec: str, rate: int) -> av.audio.stream.AudioStream:
    audio = container.add_stream(codec, rate=rate)
    audio.codec_context.layout = "stereo"
    return audio


def _write_tone(container: av.container.OutputContainer, audio: av.audio.stream.AudioStream, duration_s: float,
                *, start_s: float = 0.0) -> None:
    """A 440 Hz tone of ``duration_s`` seconds in 1024-sample frames, stamped from ``start_s``."""
    rate = audio.codec_context.sample_rate
    first = round(start_s * rate)
    total = int(round(duration_s * rate))
    formats = {"aac": "fltp", "mp3": "fltp", "libmp3lame": "fltp", "pcm_s16le": "s16", "libopus": "flt"}
    fmt = formats.get(audio.codec_context.name, "fltp")
    for start in range(0, total, 1024):
        count = min(1024, total - start)
        t = (np.arange(start, start + count) / rate).astype(np.float32)
        tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        if fmt == "s16":
            data = np.repeat((tone * 32767).astype(np.int16)[None, :], 2, axis=0).T.reshape(1, -1)
        elif fmt == "flt":
            data = np.repeat(tone[None, :], 2, axis=0).T.reshape(1, -1)
        else:
            data = np.stack([tone, tone])
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format=fmt, layout="stereo")
        frame.sample_rate = rate
        frame.pts, frame.time_base = first + start, Fraction(1, rate)
        for packet in audio.encode(frame):
            container.mux(packet)
    for packet in audio.encode(None):
        container.mux(packet)


def make_audio_only(path: Path, *, codec: str = "pcm_s16le", seconds: float = 0.5) -> Path:
    """An audio-only file (WAV for pcm_s16le, M4A for aac) holding a tone."""
    fmt = "wav" if codec.startswith("pcm") else None
    container = av.open(str(path), "w", format=fmt)
    audio = _add_audio(container, codec, 48000)
    _write_tone(container, audio, seconds)
    container.close()
    return path


def top_level_boxes(path: Path) -> list[str]:
    """Types of the top-level boxes of an MP4 file, in file order."""
    data = path.read_bytes()
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        elif size == 0:
            size = len(data) - offset
        boxes.append(kind.decode("latin-1"))
        if size < 8:
            break
        offset += size
    return boxes


def marker_corner(image: np.ndarray) -> str:
    """Which corner ('tl', 'tr', 'bl', 'br') of ``image`` holds the red marker."""
    red = (image[:, :, 2] > 180) & (image[:, :, 1] < 90) & (image[:, :, 0] < 90)
    rows, cols = np.nonzero(red)
    assert rows.size, "no red marker found"
    height, width = image.shape[:2]
    vertical = "t" if rows.mean() < height / 2 else "b"
    horizontal = "l" if cols.mean() < width / 2 else "r"
    return vertical + horizontal

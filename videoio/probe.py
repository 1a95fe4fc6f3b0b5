"""``probe``: what a video file holds, checked by decoding its first frame."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.container

from videoio._open import check_dimensions, first_video_stream, open_input
from videoio.errors import CorruptVideoError, EmptyVideoError
from videoio.rotation import rotation_from_frame, rotation_from_metadata

#: Probing gives up looking for a first decodable frame after this many video packets ...
PROBE_MAX_PACKETS = 600
#: ... or this many bytes of video packets, whichever comes first (never read a whole huge file).
PROBE_MAX_BYTES = 64 * 1024 * 1024

#: Frame rate assumed when the container states none at all (raw streams); flagged in VideoInfo.
FALLBACK_FPS = Fraction(25)
#: Highest average frame rate believed (high-speed cameras record at 1000 fps and more).
MAX_FPS = 100_000
#: Rates FFmpeg guesses rather than measures are believed only below this (see stream_fps).
GUESSED_RATE_CEILING = 1000
#: A stream without an average frame rate, or with neither a duration nor a frame count (a
#: browser's MediaRecorder WebM is written live: it has none of the three when the camera's
#: frames came irregularly, and FFmpeg's guess is then its millisecond clock, 1000 fps, or the
#: rate of its shortest gap), is measured from its packets' timestamps, demuxing (not decoding) at most this
#: many video packets or bytes; the frame count and duration only when the whole stream fits.
MEASURE_MAX_PACKETS = 20_000
MEASURE_MAX_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` learned about a file's first video stream.

    Attributes:
        width, height: size in pixels of frames AS DISPLAYED, i.e. after ``rotation``; this is
            the shape (height, width) of every image :class:`videoio.VideoReader` yields.
        coded_width, coded_height: size of frames as stored in the file, before rotation.
        rotation: clockwise degrees (0, 90, 180, 270) applied to stored frames to show them
            upright (see :mod:`videoio.rotation`).
        fps: exact rational frame rate (for variable-frame-rate video, the average rate).
        fps_guessed: True when the file states no rate and ``fps`` is :data:`FALLBACK_FPS`.
        time_base: the video stream's timestamp unit in seconds.
        frame_count: number of frames as the container states it, else an estimate from the
            duration and ``fps``; None when neither is known.
        duration_s: duration of the video stream (else of the container) in seconds, or None.
        start_time_s: timestamp of the video stream's start in seconds (0.0 when unknown);
            :class:`videoio.Frame` times are relative to it.
        codec: FFmpeg decoder name of the video stream (e.g. ``"h264"``, ``"msmpeg4v3"``).
        pix_fmt: pixel format of decoded frames (e.g. ``"yuv420p"``), or None when unknown.
        has_audio: whether the file has at least one audio stream.
        audio_codec: FFmpeg codec name of the first audio stream, or None.
        container: FFmpeg demuxer name (e.g. ``"mov,mp4,m4a,3gp,3g2,mj2"``, ``"avi"``).
        size_bytes: size of the file in bytes.
        truncated: the container's index lists video data past the end of the file, so the
            file was cut short (an interrupted copy or upload); the frames before the cut
            decode, later ones are missing.
    """

    width: int
    height: int
    coded_width: int
    coded_height: int
    rotation: int
    fps: Fraction
    fps_guessed: bool
    time_base: Fraction
    frame_count: int | None
    duration_s: float | None
    start_time_s: float
    codec: str
    pix_fmt: str | None
    has_audio: bool
    audio_codec: str | None
    container: str
    size_bytes: int
    truncated: bool


def probe(path: str | Path) -> VideoInfo:
    """Describe the video file at ``path``, decoding its first frame to prove it is usable.

    Reads at most :data:`PROBE_MAX_PACKETS` packets / :data:`PROBE_MAX_BYTES` bytes.

    Raises:
        NotAVideoError: not a media file FFmpeg reads, or no video stream (e.g. audio only).
        EmptyVideoError: a 0-byte file, or a video stream without a single frame.
        CorruptVideoError: truncated or damaged so that no frame decodes.
        UnsupportedVideoError: no decoder for the codec, or frames larger than 8192 px a side.
        VideoError: the file does not exist or cannot be read.
    """
    path = Path(path)
    container = open_input(path)
    try:
        return _describe(container, path)
    finally:
        container.close()


def _describe(container: av.container.InputContainer, path: Path) -> VideoInfo:
    stream = first_video_stream(container, path.name)
    frame = decode_first_frame(container, stream, path.name)
    rotation = rotation_from_frame(frame.rotation) or rotation_from_metadata(stream.metadata)
    coded_w, coded_h = frame.width, frame.height
    width, height = (coded_h, coded_w) if rotation in (90, 270) else (coded_w, coded_h)
    fps, fps_guessed = stream_fps(stream)
    time_base = stream.time_base or Fraction(1, 1_000_000)
    duration_s = _duration_s(container, stream, time_base)
    frame_count = _frame_count(stream, duration_s, fps)
    averaged = stream.average_rate is not None and 0 < stream.average_rate <= MAX_FPS
    if not averaged or frame_count is None:
        measured = measure_stream(path, stream.index, time_base)
        if not averaged and measured.fps is not None:  # better than a fallback or a guess
            fps, fps_guessed = measured.fps, False
        duration_s = duration_s if duration_s is not None else measured.duration_s
        frame_count = measured.frame_count or _frame_count(stream, duration_s, fps)
    audio = container.streams.audio[0] if container.streams.audio else None
    return VideoInfo(
        width=width,
        height=height,
        coded_width=coded_w,
        coded_height=coded_h,
        rotation=rotation,
        fps=fps,
        fps_guessed=fps_guessed,
        time_base=Fraction(time_base),
        frame_count=frame_count,
        duration_s=duration_s,
        start_time_s=float((stream.start_time or 0) * time_base),
        codec=stream.codec_context.name,
        pix_fmt=frame.format.name if frame.format is not None else None,
        has_audio=audio is not None,
        audio_codec=_codec_name(audio),
        container=container.format.name,
        size_bytes=path.stat().st_size,
        truncated=_index_past_eof(stream, path.stat().st_size),
    )


def decode_first_frame(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, name: str
) -> av.VideoFrame:
    """Decode frames from the current position until one comes out; bounded reading."""
    packets = read = errors = 0
    try:
        for packet in container.demux(stream):
            packets += 1 if packet.size else 0
            read += packet.size
            try:
                frames = stream.codec_context.decode(packet if packet.size else None)
            except av.error.FFmpegError:
                errors += 1
                frames = []
            if frames:
                return _checked(frames[0], name)
            if packets >= PROBE_MAX_PACKETS or read >= PROBE_MAX_BYTES:
                raise CorruptVideoError(
                    f"{name}: no frame decodes in its first {packets} packets; "
                    "the video is damaged or uses an unsupported encoding"
                )
    except av.error.FFmpegError as exc:
        raise CorruptVideoError(
            f"{name}: reading the video failed before any frame decoded ({exc.strerror or exc}); "
            "the file is probably truncated or damaged"
        ) from None
    if errors:
        raise CorruptVideoError(
            f"{name}: none of its {packets} video packets decode; the file is damaged"
        )
    raise EmptyVideoError(f"{name} has a video stream but no frames in it")


def _checked(frame: av.VideoFrame, name: str) -> av.VideoFrame:
    if frame.width <= 0 or frame.height <= 0:
        raise CorruptVideoError(f"{name}: its first frame has no size ({frame.width}x{frame.height})")
    check_dimensions(frame.width, frame.height, name)
    return frame


def stream_fps(stream: av.video.stream.VideoStream) -> tuple[Fraction, bool]:
    """The stream's exact frame rate (average rate for VFR) and whether it was guessed.

    The average rate (the container's, or FFmpeg's measurement over the first frames' timestamps)
    is believed up to :data:`MAX_FPS`, so a 1000 fps high-speed clip is 1000 fps. FFmpeg's other
    two (``r_frame_rate`` and the codec's) often echo the time base when a file states no rate
    (Matroska's millisecond clock gives 1000, MPEG-TS's 90000), so they count only below
    :data:`GUESSED_RATE_CEILING`.
    """
    average = stream.average_rate
    if average is not None and 0 < average <= MAX_FPS:
        return Fraction(average), False
    for rate in (stream.guessed_rate, stream.base_rate):
        if rate is not None and 0 < rate < GUESSED_RATE_CEILING:
            return Fraction(rate), False
    return FALLBACK_FPS, True


@dataclass(frozen=True)
class MeasuredStream:
    """What a stream's packet timestamps say: its average frame rate (None with fewer than two
    timestamped packets), and its frame count and duration in seconds (None unless every packet
    was read within :data:`MEASURE_MAX_PACKETS` / :data:`MEASURE_MAX_BYTES`)."""

    fps: Fraction | None
    frame_count: int | None
    duration_s: float | None


def measure_stream(path: Path, index: int, time_base: Fraction) -> MeasuredStream:
    """Demux stream ``index`` of ``path`` (no decoding) and measure it from its packets' pts in
    ``time_base``: rate = (packets - 1) / (last pts - first pts); the duration adds one frame."""
    stamps: list[int] = []
    read, complete = 0, True
    container = open_input(path)
    try:
        for packet in container.demux(container.streams[index]):
            if not packet.size:
                continue  # the demuxer's end-of-stream marker
            read += packet.size
            if packet.pts is not None:
                stamps.append(packet.pts)
            if len(stamps) >= MEASURE_MAX_PACKETS or read >= MEASURE_MAX_BYTES:
                complete = False
                break
    except av.error.FFmpegError:
        complete = False  # damaged further on: the rate from what was read still holds
    finally:
        container.close()
    if len(stamps) < 2 or max(stamps) <= min(stamps):
        return MeasuredStream(None, None, None)
    span_s = float((max(stamps) - min(stamps)) * time_base)
    fps = Fraction(len(stamps) - 1) / Fraction(span_s).limit_denominator(1_000_000)
    fps = fps.limit_denominator(1001)
    if not 0 < fps <= MAX_FPS:
        return MeasuredStream(None, None, None)
    if not complete:
        return MeasuredStream(fps, None, None)
    return MeasuredStream(fps, len(stamps), span_s + float(1 / fps))


def _duration_s(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, time_base: Fraction
) -> float | None:
    if stream.duration:
        return float(stream.duration * time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _frame_count(stream: av.video.stream.VideoStream, duration_s: float | None, fps: Fraction) -> int | None:
    if stream.frames and stream.frames > 0:
        return int(stream.frames)
    if duration_s is not None:
        return max(1, round(duration_s * fps))
    return None


def _index_past_eof(stream: av.video.stream.VideoStream, size_bytes: int) -> bool:
    """Whether the demuxer's index (MP4 sample table, AVI idx1) points beyond the file's end."""
    try:
        entries = stream.index_entries
        if len(entries) == 0:
            return False
        last = entries[len(entries) - 1]
        return last.pos >= 0 and last.pos + last.size > size_bytes
    except (AttributeError, IndexError, av.error.FFmpegError):
        return False


def _codec_name(stream: av.stream.Stream | None) -> str | None:
    if stream is None:
        return None
    context = stream.codec_context
    return context.name if context is not None else None

"""``VideoReader``: upright BGR frames with exact timestamps, one at a time (flat memory)."""
from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import av
import av.container
import numpy as np

from videoio._open import first_video_stream, open_input
from videoio.errors import CorruptVideoError, VideoError
from videoio.probe import VideoInfo, probe
from videoio.rotation import apply_rotation

#: Consecutive undecodable packets after which reading stops (the rest of the file is garbage).
MAX_CONSECUTIVE_ERRORS = 50


@dataclass(frozen=True)
class Frame:
    """One decoded video frame.

    Attributes:
        index: 0-based position of the frame in the source's frame sequence.
        time_s: presentation time in seconds relative to the video stream's start
            (``pts * time_base - start_time``); for frames without a timestamp, ``index / fps``.
        image: uint8 BGR array (height, width, 3), C-contiguous, upright (rotation applied).
    """

    index: int
    time_s: float
    image: np.ndarray


def frames_in_range(info: VideoInfo, *, start_s: float = 0.0, end_s: float | None = None,
                    stride: int = 1) -> int | None:
    """How many frames a :class:`VideoReader` with this range and stride yields, estimated from
    ``info`` (exact for constant-rate files that are not truncated); None when the video's length
    is unknown. Any finite times work, however far past the end (no overflow)."""
    if info.frame_count is None:
        return None
    first = _frame_at(start_s, info)
    last = info.frame_count if end_s is None else _frame_at(end_s, info)
    return max(0, math.ceil((last - first) / stride))


def _frame_at(time_s: float, info: VideoInfo) -> int:
    """Index of the first frame at or after ``time_s``, at most ``info.frame_count``."""
    position = time_s * float(info.fps) - 1e-6
    if not position < info.frame_count:  # past the end, inf and nan alike
        return info.frame_count
    return math.ceil(position)


class VideoReader:
    """Iterate a video file's frames as :class:`Frame` objects, upright and in BGR.

    Args:
        path: the video file. It is probed on construction (see :func:`videoio.probe`), so a bad
            file raises the same :class:`~videoio.VideoError` subclasses here.
        start_s: first time (seconds from the stream start) to yield; earlier frames are skipped.
            For ``start_s > 0`` the reader seeks to the keyframe before it, so indexes of the
            frames it yields are computed as ``round(time_s * fps)`` (exact for constant frame
            rate); from the start they are counted.
        end_s: yield only frames with ``time_s < end_s``; None reads to the end.
        stride: yield every ``stride``-th frame of the range (1 = all).
        threads: decoder threads, 0 = FFmpeg's automatic choice.
        info: this file's :func:`videoio.probe` result, where the caller has it already (the
            reader then does not probe the file again); None (default) probes it.

    A truncated or partly damaged file yields the frames that decode and then stops;
    ``decode_errors`` counts the packets that failed and ``truncated`` says whether the file
    was cut short (see ``VideoInfo.truncated``) or reading ended on an error rather than at the
    end of the file. If not a single frame decodes,
    iteration raises :class:`~videoio.CorruptVideoError`.

    Use as a context manager (or call :meth:`close`); it can be iterated once.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        start_s: float = 0.0,
        end_s: float | None = None,
        stride: int = 1,
        threads: int = 0,
        info: VideoInfo | None = None,
    ) -> None:
        if stride < 1:
            raise ValueError(f"stride must be at least 1, got {stride}")
        if start_s < 0 or (end_s is not None and end_s <= start_s):
            raise ValueError(f"need 0 <= start_s < end_s, got start_s={start_s}, end_s={end_s}")
        self.path = Path(path)
        self.start_s = float(start_s)
        self.end_s = None if end_s is None else float(end_s)
        self.stride = int(stride)
        self._started = False
        # Probe on its own container: the decoder it opens cannot be switched to threads later.
        self.info: VideoInfo = probe(self.path) if info is None else info
        self.decode_errors = 0
        self.truncated = self.info.truncated
        self._threads = threads
        self._open_decoder()

    @property
    def frames_expected(self) -> int | None:
        """Estimate of how many frames iteration yields (range and stride applied), for progress
        bars; None when the source's length is unknown. Exact for constant-rate files that are
        not truncated."""
        return frames_in_range(self.info, start_s=self.start_s, end_s=self.end_s, stride=self.stride)

    def _open_decoder(self) -> None:
        """Open the file afresh, positioned at its start, with a threaded decoder."""
        self._container = open_input(self.path)
        try:
            self._stream = first_video_stream(self._container, self.path.name)
            self._stream.thread_type = "AUTO"
            self._stream.codec_context.thread_count = self._threads
        except BaseException:
            self._container.close()
            raise

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the file and the decoder; safe to call twice."""
        self._container.close()

    def __iter__(self) -> Iterator[Frame]:
        if self._started:
            raise VideoError("a VideoReader can be iterated only once; open a new one")
        self._started = True
        yielded = 0
        in_range = 0
        for index, time_s, frame in self._decoded():
            if time_s < self.start_s - 1e-6:
                continue
            if self.end_s is not None and time_s >= self.end_s - 1e-6:
                break
            in_range += 1
            if (in_range - 1) % self.stride:
                continue
            image = frame.to_ndarray(format="bgr24")
            yielded += 1
            yield Frame(index=index, time_s=time_s, image=apply_rotation(image, self.info.rotation))
        if yielded == 0 and self.truncated:
            raise CorruptVideoError(
                f"{self.path.name}: no frame in the requested range decodes; the file is damaged"
            )

    def _decoded(self) -> Iterator[tuple[int, float, av.VideoFrame]]:
        """(index, time_s, frame) for every decodable frame from the (seek) start, in order."""
        if self.start_s > 0 and self._seek(self.start_s):
            frames = self._frames()
            first = next(frames, None)
            if first is not None and self._landed_before(first, self.start_s):
                yield from self._placed_by_time(itertools.chain([first], frames))
                return
            # Nothing decoded after the seek (e.g. MPEG-TS: no index, the seek lands between
            # keyframes), no timestamps (raw elementary stream), or an inexact index put us past
            # start_s: decode from the start and count instead.
            frames.close()
            self._rewind()
        yield from self._counted(self._frames())

    def _landed_before(self, frame: av.VideoFrame, start_s: float) -> bool:
        """Whether a seek's first frame is a keyframe (not a guess built on missing references)
        with a timestamp no later than ``start_s`` (+ half a frame)."""
        if frame.pts is None or not frame.key_frame:
            return False
        return self._time_s(frame, default=0.0) <= start_s + float(1 / self.info.fps) / 2

    def _counted(self, frames: Iterator[av.VideoFrame]) -> Iterator[tuple[int, float, av.VideoFrame]]:
        """Frames read from the start: the index is counted; no pts means time = index / fps."""
        for index, frame in enumerate(frames):
            yield index, self._time_s(frame, default=float(index / self.info.fps)), frame

    def _placed_by_time(self, frames: Iterator[av.VideoFrame]) -> Iterator[tuple[int, float, av.VideoFrame]]:
        """Frames read after a seek: index = round(time_s * fps); no pts means one period on."""
        period = float(1 / self.info.fps)
        time_s = -period
        for frame in frames:
            time_s = self._time_s(frame, default=time_s + period)
            yield round(time_s * self.info.fps), time_s, frame

    def _time_s(self, frame: av.VideoFrame, *, default: float) -> float:
        if frame.pts is None:
            return default
        return float(frame.pts * self._stream.time_base) - self.info.start_time_s

    def _rewind(self) -> None:
        """Back to the first frame: reopening is the one way that works for every format."""
        self._container.close()
        self._open_decoder()

    def _seek(self, start_s: float) -> bool:
        """Seek to the keyframe at or before ``start_s``; False (decode from 0) if that fails."""
        target = self.info.start_time_s + start_s
        try:
            offset = int(target / self._stream.time_base)
            self._container.seek(offset, stream=self._stream, backward=True, any_frame=False)
            self._stream.codec_context.flush_buffers()
            return True
        except (av.error.FFmpegError, OverflowError):  # OverflowError: beyond any int64 offset
            self._rewind()
            return False

    def _frames(self) -> Iterator[av.VideoFrame]:
        """Decoded frames in presentation order; stops cleanly at EOF or where the file breaks."""
        codec = self._stream.codec_context
        consecutive = 0
        packets = self._container.demux(self._stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.error.FFmpegError:
                self.decode_errors += 1
                self.truncated = True
                break
            try:
                frames = codec.decode(packet if packet.size else None)
                consecutive = 0
            except av.error.FFmpegError:
                self.decode_errors += 1
                consecutive += 1
                if consecutive >= MAX_CONSECUTIVE_ERRORS:
                    self.truncated = True
                    break
                continue
            yield from frames
        try:
            yield from codec.decode(None)  # drain frames the decoder still holds
        except av.error.EOFError:
            pass  # demux already sent the end-of-stream packet: the decoder is drained
        except av.error.FFmpegError:
            self.decode_errors += 1

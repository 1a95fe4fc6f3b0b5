"""``VideoWriter``: browser-playable H.264 MP4 (yuv420p, High profile, +faststart), audio kept."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import av.container
import numpy as np
from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc

from videoio._open import _reason
from videoio.audio import AudioMuxer
from videoio.errors import VideoWriteError

#: Encoder ticks per frame: the encoder's time base is ``1 / (fps * TICKS_PER_FRAME)`` so that
#: frame ``i`` sits exactly at ``i / fps`` and explicit (VFR) times keep millisecond-ish precision.
TICKS_PER_FRAME = 1000


def even_size(width: int, height: int) -> tuple[int, int]:
    """Output size for a ``width`` x ``height`` input: each odd side grows by 1 px (padding)."""
    return width + (width % 2), height + (height % 2)


class VideoWriter:
    """Encode BGR frames to an H.264 MP4 that every browser plays.

    Output: libx264, High profile, yuv420p in BT.709 (limited range, tagged), with
    ``movflags=+faststart`` (moov before mdat).
    H.264 in yuv420p needs even dimensions, so an odd width or height is PADDED by one pixel,
    replicating the last column/row (no pixel of the input is lost and nothing is resized).

    Args:
        path: the .mp4 file to write (overwritten if present; its folder must exist).
        width, height: size of the images passed to :meth:`write`, in pixels.
        fps: exact rational frame rate; frame ``i`` is stamped ``i / fps`` unless :meth:`write`
            gets an explicit time, so frame count and duration match a source read at this rate.
        audio_from: a media file whose first audio stream is muxed in (stream-copied when the
            codec fits MP4 (AAC, MP3, AC-3, E-AC-3), otherwise transcoded to AAC); a file without
            audio is fine (no audio track). None: no audio.
        audio_start_s, audio_end_s: the span of the source audio to keep, in seconds relative to
            the source's video stream start (pass the range the video frames came from);
            ``audio_end_s=None`` keeps audio up to the end of the written video.
        crf: x264 constant rate factor (0-51, lower = better quality, bigger file).
        preset: x264 speed preset (``"ultrafast"`` ... ``"veryslow"``).
        threads: encoder threads, 0 = automatic.

    Raises:
        VideoWriteError: the file cannot be created or encoding fails.
        videoio.VideoError subclasses: ``audio_from`` is given but cannot be read.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        width: int,
        height: int,
        fps: Fraction,
        audio_from: str | Path | None = None,
        audio_start_s: float = 0.0,
        audio_end_s: float | None = None,
        crf: int = 20,
        preset: str = "veryfast",
        threads: int = 0,
    ) -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"width and height must be positive, got {width}x{height}")
        fps = Fraction(fps)
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        if not 0 <= crf <= 51:
            raise ValueError(f"crf must be within 0..51, got {crf}")
        self.path = Path(path)
        self.width, self.height = int(width), int(height)
        self.fps = fps
        self.out_width, self.out_height = even_size(self.width, self.height)
        self.frames_written = 0
        self._time_base = 1 / (fps * TICKS_PER_FRAME)
        self._last_pts = -1
        self._closed = False
        try:
            self._container = av.open(
                str(self.path), mode="w", format="mp4", options={"movflags": "+faststart"}
            )
        except (av.error.FFmpegError, OSError) as exc:
            raise VideoWriteError(f"cannot create {self.path.name}: {_reason(exc)}",
                                  errno=getattr(exc, "errno", None)) from None
        self._audio: AudioMuxer | None = None
        try:
            self._stream = self._add_video_stream(crf=crf, preset=preset, threads=threads)
            if audio_from is not None:
                self._audio = AudioMuxer(
                    self._container, Path(audio_from), start_s=audio_start_s, end_s=audio_end_s
                )
            self._start()
        except BaseException:
            self._discard()
            raise

    def _discard(self) -> None:
        """Give up on a writer that failed to start: close what is open, remove the file."""
        self._closed = True
        if self._audio is not None:
            self._audio.close()
        try:
            self._container.close()
        except (av.error.FFmpegError, OSError):
            pass  # nothing useful was written; the file is removed below
        self.path.unlink(missing_ok=True)

    def _start(self) -> None:
        """Open the codecs, create the file and write the header now, so bad settings or an
        unwritable path fail here rather than at the first frame."""
        try:
            self._container.start_encoding()
        except (av.error.FFmpegError, OSError) as exc:
            raise VideoWriteError(f"cannot create {self.path.name}: {_reason(exc)}",
                                  errno=getattr(exc, "errno", None)) from None

    def _add_video_stream(self, *, crf: int, preset: str, threads: int) -> av.video.stream.VideoStream:
        stream = self._container.add_stream("libx264", rate=self.fps)
        stream.width, stream.height = self.out_width, self.out_height
        stream.pix_fmt = "yuv420p"
        stream.time_base = self._time_base
        context = stream.codec_context
        context.time_base = self._time_base
        context.thread_count = threads
        # BT.709 matrix, primaries and transfer, limited range: converted so (in write) and
        # tagged so, so that browsers show the colours that were drawn.
        context.colorspace = Colorspace.ITU709
        context.color_primaries = ColorPrimaries.BT709
        context.color_trc = ColorTrc.BT709
        context.color_range = ColorRange.MPEG
        context.options = {"crf": str(crf), "preset": preset, "profile": "high"}
        return stream

    @property
    def has_audio(self) -> bool:
        """Whether the output gets an audio track (``audio_from`` had one)."""
        return self._audio is not None and self._audio.active

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def write(self, image_bgr: np.ndarray, *, time_s: float | None = None) -> None:
        """Encode one frame.

        Args:
            image_bgr: uint8 (height, width, 3) BGR image of the size given to the constructor.
            time_s: presentation time in seconds from the start of the output; None places the
                frame one frame period after the previous one. Times are kept strictly
                increasing (a time at or before the previous frame's is nudged after it).
        """
        if self._closed:
            raise VideoWriteError(f"{self.path.name} is already closed")
        if image_bgr.dtype != np.uint8 or image_bgr.shape != (self.height, self.width, 3):
            raise ValueError(
                f"expected a uint8 ({self.height}, {self.width}, 3) BGR image, "
                f"got {image_bgr.dtype} {image_bgr.shape}"
            )
        pts = self._next_pts(time_s)
        frame = av.VideoFrame.from_ndarray(self._padded(image_bgr), format="bgr24").reformat(
            format="yuv420p", dst_colorspace=Colorspace.ITU709
        )
        frame.pts = pts
        frame.time_base = self._time_base
        frame.duration = TICKS_PER_FRAME
        if self._audio is not None:
            try:
                self._audio.mux_until(float(pts * self._time_base))
            except (av.error.FFmpegError, OSError) as exc:
                raise VideoWriteError(f"muxing audio into {self.path.name} failed: {_reason(exc)}",
                                      errno=getattr(exc, "errno", None)) from None
        self._encode(frame)
        self.frames_written += 1

    def _next_pts(self, time_s: float | None) -> int:
        if time_s is None:
            pts = self._last_pts + TICKS_PER_FRAME if self._last_pts >= 0 else 0
        else:
            pts = max(round(Fraction(time_s) / self._time_base), self._last_pts + 1)
        self._last_pts = pts
        return pts

    def _padded(self, image: np.ndarray) -> np.ndarray:
        pad_w, pad_h = self.out_width - self.width, self.out_height - self.height
        if pad_w or pad_h:
            image = np.pad(image, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
        return np.ascontiguousarray(image)

    def _encode(self, frame: av.VideoFrame | None) -> None:
        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        except (av.error.FFmpegError, OSError) as exc:
            raise VideoWriteError(f"encoding {self.path.name} failed: {_reason(exc)}",
                                  errno=getattr(exc, "errno", None)) from None

    @property
    def duration_s(self) -> float:
        """Duration of what has been written so far: last frame's time plus one frame period."""
        if self._last_pts < 0:
            return 0.0
        return float((self._last_pts + TICKS_PER_FRAME) * self._time_base)

    def close(self) -> None:
        """Flush the encoder, mux the remaining audio, write the index; safe to call twice.

        With no frame written the file is still finalised but holds an empty video track.
        """
        if self._closed:
            return
        self._closed = True
        try:
            self._encode(None)
            if self._audio is not None:
                self._audio.finish(self.duration_s)
        except (av.error.FFmpegError, OSError) as exc:
            raise VideoWriteError(f"finishing {self.path.name} failed: {_reason(exc)}",
                                  errno=getattr(exc, "errno", None)) from None
        finally:
            self._release()

    def _release(self) -> None:
        """Write the trailer (the moov index) and close the files."""
        try:
            self._container.close()
        except (av.error.FFmpegError, OSError) as exc:
            raise VideoWriteError(f"finishing {self.path.name} failed: {_reason(exc)}",
                                  errno=getattr(exc, "errno", None)) from None
        finally:
            if self._audio is not None:
                self._audio.close()

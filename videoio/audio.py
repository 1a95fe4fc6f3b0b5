"""Carry a source file's audio into an output MP4, interleaved with the video as it is written.

Internal to :class:`videoio.VideoWriter`. Audio is stream-copied when its codec fits MP4 and
browsers (AAC, MP3, AC-3, E-AC-3), otherwise decoded and re-encoded to AAC. It is cut to the
span of the source that the video covers, and pulled from the source a little ahead of the
video so that memory stays flat however long the file is.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import av.container

from videoio._open import open_input

#: Audio codecs copied into the MP4 as they are.
COPY_CODECS = frozenset({"aac", "mp3", "mp3float", "ac3", "eac3"})
#: Bit rate of AAC when transcoding, in bits per second.
AAC_BIT_RATE = 160_000
#: Audio seeks land this far (seconds) before the range start, then drop packets up to it.
SEEK_MARGIN_S = 0.5
#: How far (seconds) audio is muxed ahead of the last video frame written.
LEAD_S = 1.0
#: A transcoded stream's audio that starts this much (seconds) later than the samples so far
#: reach is preceded by silence, so that it stays in sync with the video.
GAP_S = 0.02


class AudioMuxer:
    """Feeds the first audio stream of ``source`` into ``container`` (an open MP4 output).

    Args:
        container: the output container; the audio stream is added here, so construct this
            before the first video packet is muxed.
        source: the media file to take audio from (usually the video's own source).
        start_s: source time (seconds from the source's VIDEO stream start) that becomes 0.
        end_s: source time at which audio stops; None = wherever :meth:`finish` says.

    ``active`` is False when the source has no audio stream: then every method is a no-op.
    ``errors`` counts audio packets that failed to read or decode; audio then stops early
    rather than failing the video.
    """

    def __init__(
        self,
        container: av.container.OutputContainer,
        source: Path,
        *,
        start_s: float = 0.0,
        end_s: float | None = None,
    ) -> None:
        self._container = container
        self._input = open_input(source)
        self._limit_s = None if end_s is None else max(0.0, end_s - start_s)
        self.errors = 0
        self.copying = False
        audio = [s for s in self._input.streams.audio if s.codec_context is not None]
        self.active = bool(audio)
        if not self.active:
            return
        self._in = audio[0]
        video = self._input.streams.video
        video_start = float((video[0].start_time or 0) * video[0].time_base) if video else 0.0
        self._origin_s = video_start + start_s
        self.copying = self._in.codec_context.name in COPY_CODECS
        self._out = self._add_output_stream()
        self._items = self._copied() if self.copying else self._decoded()
        self._pending: tuple[float, av.Packet | av.AudioFrame] | None = None

    def _add_output_stream(self) -> av.stream.Stream:
        if self.copying:
            return self._container.add_stream_from_template(self._in)
        context = self._in.codec_context
        # Mono stays mono; everything else becomes plain stereo, which every browser plays (and
        # an unordered "2 channels" layout, as PCM in Matroska has, is not accepted by AAC).
        layout = "mono" if context.channels == 1 else "stereo"
        rate = context.sample_rate if context.sample_rate in _AAC_RATES else 48000
        out = self._container.add_stream("aac", rate=rate)
        out.codec_context.layout = layout
        out.codec_context.format = "fltp"
        out.codec_context.bit_rate = AAC_BIT_RATE
        return out

    def mux_until(self, video_time_s: float) -> None:
        """Mux audio up to ``video_time_s`` + :data:`LEAD_S` (output seconds)."""
        if self.active:
            self._mux_before(video_time_s + LEAD_S)

    def finish(self, video_duration_s: float) -> None:
        """Mux the rest of the audio up to the end of the video (or ``end_s``) and flush."""
        if not self.active:
            return
        limit = video_duration_s if self._limit_s is None else min(self._limit_s, video_duration_s)
        self._mux_before(limit)
        if not self.copying:
            for packet in self._out.encode(None):
                self._container.mux(packet)

    def close(self) -> None:
        """Close the audio source file."""
        self._input.close()

    def _mux_before(self, limit_s: float) -> None:
        if self._limit_s is not None:
            limit_s = min(limit_s, self._limit_s)
        while True:
            if self._pending is None:
                self._pending = next(self._items, None)
                if self._pending is None:
                    return
            time_s, item = self._pending
            if time_s >= limit_s:
                return
            self._pending = None
            if isinstance(item, av.Packet):
                self._container.mux(item)
            else:
                for packet in self._out.encode(item):
                    self._container.mux(packet)

    def _packets(self) -> Iterator[av.Packet]:
        """Source audio packets with timestamps; stops (counting an error) where the file breaks."""
        self._seek_near_start()
        demux = self._input.demux(self._in)
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                return
            except av.error.FFmpegError:
                self.errors += 1
                return
            if packet.size and packet.pts is not None:
                yield packet

    def _seek_near_start(self) -> None:
        """Skip reading the source up to the range start; packets before it are dropped anyway."""
        if self._origin_s <= SEEK_MARGIN_S:
            return
        target = int((self._origin_s - SEEK_MARGIN_S) / self._in.time_base)
        try:
            self._input.seek(target, stream=self._in, backward=True)
        except (av.error.FFmpegError, OverflowError):  # OverflowError: beyond any int64 offset
            pass  # unseekable: read from where we are (the start) and drop what comes before

    def _copied(self) -> Iterator[tuple[float, av.Packet]]:
        """(output time, packet) for source packets from ``start_s`` on, shifted to start at 0."""
        time_base = self._in.time_base
        shift = round(self._origin_s / time_base)
        for packet in self._packets():
            time_s = float(packet.pts * time_base) - self._origin_s
            if time_s < 0:
                continue
            packet.pts -= shift
            packet.dts = packet.pts if packet.dts is None else packet.dts - shift
            packet.stream = self._out
            yield time_s, packet

    def _decoded(self) -> Iterator[tuple[float, av.AudioFrame]]:
        """(output time, frame) for decoded frames from ``start_s`` on, restamped from 0 in
        samples; silence fills where the source's audio starts late or skips ahead."""
        rate = self._out.codec_context.sample_rate
        next_pts = 0
        for packet in self._packets():
            try:
                frames = self._in.codec_context.decode(packet)
            except av.error.FFmpegError:
                self.errors += 1
                continue
            for frame in frames:
                time_s = float(frame.pts * frame.time_base) - self._origin_s if frame.pts is not None else None
                if time_s is not None and time_s < 0:
                    continue
                if time_s is not None and time_s - next_pts / rate > GAP_S:
                    # Audio that starts after the video (or skips): silence keeps it in sync.
                    for silence in _silence(frame, time_s - next_pts / rate):
                        yield next_pts / rate, silence
                        next_pts += round(silence.samples * rate / frame.sample_rate)
                out_time = next_pts / rate
                frame.pts = None  # the encoder's resampler restamps in output samples
                yield out_time, frame
                next_pts += round(frame.samples * rate / frame.sample_rate)


def _silence(like: av.AudioFrame, seconds: float) -> Iterator[av.AudioFrame]:
    """``seconds`` of silence in the format, layout and rate of ``like``, in frames of <= 1 s."""
    rate = like.sample_rate
    zero = bytes([0x80 if like.format.name.startswith("u8") else 0])  # unsigned 8-bit: 128 is silence
    left = round(seconds * rate)
    while left > 0:
        count = min(left, rate)
        frame = av.AudioFrame(format=like.format.name, layout=like.layout.name, samples=count)
        for plane in frame.planes:
            plane.update(zero * plane.buffer_size)
        frame.sample_rate = rate
        yield frame
        left -= count


_AAC_RATES = frozenset({96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000})

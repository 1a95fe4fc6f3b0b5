"""VideoWriter output: browser-playable H.264 MP4 with the source's rate, length and audio."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from videoio import NotAVideoError, VideoReader, VideoWriteError, VideoWriter, even_size, probe, write_jpeg
from videoio_clips import frame_image, make_clip, top_level_boxes

pytestmark = pytest.mark.timeout(120)


def transcode(source: Path, out: Path, **reader_args: object) -> VideoWriter:
    """Read ``source`` (optionally a range) and write every frame to ``out`` with its audio."""
    with VideoReader(source, **reader_args) as reader:  # type: ignore[arg-type]
        info = reader.info
        writer = VideoWriter(
            out,
            width=info.width,
            height=info.height,
            fps=info.fps,
            audio_from=source,
            audio_start_s=float(reader_args.get("start_s", 0.0)),  # type: ignore[arg-type]
            audio_end_s=reader_args.get("end_s"),  # type: ignore[arg-type]
        )
        with writer:
            for frame in reader:
                writer.write(frame.image)
    return writer


def assert_browser_playable(path: Path) -> None:
    boxes = top_level_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat"), boxes
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        assert video.codec_context.name == "h264"
        assert video.codec_context.pix_fmt == "yuv420p"
        assert video.codec_context.profile == "High"
        assert video.width % 2 == 0 and video.height % 2 == 0


@pytest.mark.parametrize("fps", [Fraction(25), Fraction(30000, 1001)])
def test_round_trip_keeps_rate_count_and_duration(tmp_path: Path, fps: Fraction) -> None:
    source = make_clip(tmp_path / "src.mp4", frames=30, fps=fps)
    out = tmp_path / "out.mp4"
    writer = transcode(source, out)
    assert writer.frames_written == 30
    assert_browser_playable(out)
    src, dst = probe(source), probe(out)
    period = float(1 / fps)
    assert dst.fps == fps
    assert dst.frame_count == src.frame_count == 30
    assert abs(dst.duration_s - src.duration_s) <= period
    with VideoReader(out) as reader:
        frames = list(reader)
    assert len(frames) == 30
    assert [f.time_s for f in frames] == pytest.approx([i * period for i in range(30)], abs=1e-4)
    # Content survives: grey level of frame 7 and the marker.
    assert abs(int(frames[7].image[30, 40, 1]) - int(frame_image(7, 64, 48)[30, 40, 1])) <= 4


def test_colours_survive_and_are_tagged_bt709(tmp_path: Path) -> None:
    image = np.zeros((64, 64, 3), np.uint8)
    image[:, :32] = (40, 60, 220)
    image[:, 32:] = (200, 180, 30)
    out = tmp_path / "colours.mp4"
    with VideoWriter(out, width=64, height=64, fps=Fraction(25)) as writer:
        for _ in range(3):
            writer.write(image)
    with av.open(str(out)) as container:
        frame = next(container.decode(video=0))
        assert (int(frame.colorspace), int(frame.color_range)) == (1, 1)  # BT.709, limited range
    with VideoReader(out) as reader:
        decoded = next(iter(reader)).image
    assert np.abs(decoded[8:56, 8:24].astype(int) - (40, 60, 220)).max() <= 6
    assert np.abs(decoded[8:56, 40:56].astype(int) - (200, 180, 30)).max() <= 6


def test_odd_size_is_padded_by_one_pixel(tmp_path: Path) -> None:
    assert even_size(321, 241) == (322, 242) and even_size(320, 240) == (320, 240)
    image = np.zeros((241, 321, 3), np.uint8)
    image[:, -1] = (0, 255, 0)  # last column green: padding must replicate it
    image[-1, :] = (255, 0, 0)  # last row blue
    out = tmp_path / "odd.mp4"
    with VideoWriter(out, width=321, height=241, fps=Fraction(10)) as writer:
        for _ in range(3):
            writer.write(image)
    assert_browser_playable(out)
    with VideoReader(out) as reader:
        decoded = next(iter(reader)).image
    assert decoded.shape == (242, 322, 3)
    assert decoded[100, 321, 1] > 200 and decoded[100, 321, 2] < 60  # padded column is green
    assert decoded[241, 100, 0] > 200 and decoded[241, 100, 1] < 60  # padded row is blue


def test_real_h264_with_aac_range_keeps_audio(videos_dir: Path, tmp_path: Path) -> None:
    source = videos_dir / "openpose_examples_media_video.avi"  # MP4 inside: H.264 50 fps + AAC
    out = tmp_path / "annotated.mp4"
    writer = transcode(source, out, start_s=1.0, end_s=2.0)
    assert writer.frames_written == 50 and writer.has_audio
    assert_browser_playable(out)
    info = probe(out)
    assert (info.fps, info.frame_count, info.has_audio, info.audio_codec) == (Fraction(50), 50, True, "aac")
    assert info.duration_s == pytest.approx(1.0, abs=0.02)
    with av.open(str(out)) as container:
        audio = container.streams.audio[0]
        audio_s = float(audio.duration * audio.time_base)
    assert audio_s == pytest.approx(1.0, abs=0.05)


def test_pcm_audio_is_transcoded_to_aac(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "src.mkv", frames=25, fps=Fraction(25), audio_codec="pcm_s16le")
    assert probe(source).audio_codec == "pcm_s16le"
    out = tmp_path / "out.mp4"
    writer = transcode(source, out)
    assert writer.has_audio
    with av.open(str(out)) as container:
        audio = container.streams.audio[0]
        assert audio.codec_context.name == "aac"
        audio_s = float(audio.duration * audio.time_base)
        decoded = sum(frame.samples for frame in container.decode(audio))
    assert audio_s == pytest.approx(1.0, abs=0.05)
    assert decoded / 48000 == pytest.approx(1.0, abs=0.05)


def test_source_without_audio_gives_no_audio_track(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "silent.mp4", frames=5)
    out = tmp_path / "out.mp4"
    writer = transcode(source, out)
    assert not writer.has_audio and not probe(out).has_audio


def test_explicit_times_give_variable_frame_rate_output(tmp_path: Path) -> None:
    times = [0.0, 0.04, 0.08, 0.2, 0.21, 0.22, 0.4]
    out = tmp_path / "vfr.mp4"
    with VideoWriter(out, width=64, height=48, fps=Fraction(25)) as writer:
        for index, time_s in enumerate(times):
            writer.write(frame_image(index, 64, 48), time_s=time_s)
    with VideoReader(out) as reader:
        assert [f.time_s for f in reader] == pytest.approx(times, abs=1e-3)


def test_real_mpeg4_avi_range_matches_source_length(videos_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "vtest.mp4"
    transcode(videos_dir / "vtest.avi", out, end_s=2.0)
    info = probe(out)
    assert (info.fps, info.frame_count, info.width, info.height) == (Fraction(10), 20, 768, 576)
    assert info.duration_s == pytest.approx(2.0, abs=0.1)
    assert not info.has_audio
    assert_browser_playable(out)


def test_wrong_image_and_unwritable_path_raise(tmp_path: Path) -> None:
    with VideoWriter(tmp_path / "a.mp4", width=64, height=48, fps=Fraction(25)) as writer:
        with pytest.raises(ValueError, match=r"uint8 \(48, 64, 3\)"):
            writer.write(np.zeros((48, 63, 3), np.uint8))
        writer.write(frame_image(0, 64, 48))
    with pytest.raises(VideoWriteError, match="cannot create"):
        VideoWriter(tmp_path / "missing" / "b.mp4", width=64, height=48, fps=Fraction(25))
    with pytest.raises(VideoWriteError, match="cannot create c.mp4"):
        VideoWriter(tmp_path / "c.mp4", width=64, height=48, fps=Fraction(25), preset="warp-speed")
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video\n" * 50)
    with pytest.raises(NotAVideoError):
        VideoWriter(tmp_path / "d.mp4", width=64, height=48, fps=Fraction(25), audio_from=notes)
    assert not (tmp_path / "c.mp4").exists() and not (tmp_path / "d.mp4").exists()


def test_write_jpeg_quality_and_max_width(tmp_path: Path) -> None:
    image = frame_image(3, 640, 360)
    big = write_jpeg(tmp_path / "t000005.000.jpg", image, quality=95)
    small = write_jpeg(tmp_path / "poster.jpg", image, quality=60, max_width=320)
    assert cv2.imread(str(big)).shape == (360, 640, 3)
    assert cv2.imread(str(small)).shape == (180, 320, 3)
    assert small.stat().st_size < big.stat().st_size
    with pytest.raises(ValueError, match="uint8"):
        write_jpeg(tmp_path / "x.jpg", image.astype(np.float32))


class _DiskFullContainer:
    """Stands in for the output container once the disk is full: FFmpeg's errors name the path."""

    def __init__(self, real: av.container.OutputContainer, path: Path) -> None:
        self.real, self.path = real, path

    def _full(self, *args: object) -> None:
        raise av.error.OSError(28, "No space left on device", str(self.path))

    mux = close = _full


def test_write_errors_name_the_file_but_not_the_server_folder(tmp_path: Path) -> None:
    # The message reaches web users (job error); the folder it was written in is the server's.
    path = tmp_path / "secret-folder" / "out.mp4"
    path.parent.mkdir()
    writer = VideoWriter(path, width=64, height=48, fps=Fraction(25))
    real = writer._container
    writer._container = _DiskFullContainer(real, path)
    try:
        with pytest.raises(VideoWriteError) as raised:
            for index in range(60):
                writer.write(frame_image(index, 64, 48))
            writer.close()
    finally:
        real.close()
    message = str(raised.value)
    assert "out.mp4" in message and "no space left on device" in message.lower()
    assert "secret-folder" not in message and str(tmp_path) not in message


def _first_sound_s(path: Path) -> float:
    """Time (s) of the first clearly audible sample of ``path``'s audio track."""
    with av.open(str(path)) as container:
        for frame in container.decode(container.streams.audio[0]):
            samples = np.abs(frame.to_ndarray()).max(axis=0)
            loud = np.nonzero(samples > 0.05 * (32767 if samples.dtype == np.int16 else 1.0))[0]
            if loud.size:
                return float(frame.pts * frame.time_base) + loud[0] / frame.sample_rate
    raise AssertionError("no sound")


@pytest.mark.parametrize(("name", "codec"), [("late.mkv", "pcm_s16le"), ("late.mp4", "aac")])
def test_audio_that_starts_after_the_video_stays_in_sync(tmp_path: Path, name: str, codec: str) -> None:
    # Copied (AAC) or transcoded (PCM), the sound starts where it started in the source.
    source = make_clip(tmp_path / name, frames=50, fps=Fraction(25), audio_codec=codec, audio_start_s=0.6)
    assert _first_sound_s(source) == pytest.approx(0.6, abs=0.03)
    out = tmp_path / "out.mp4"
    transcode(source, out)
    assert _first_sound_s(out) == pytest.approx(0.6, abs=0.03)


def test_an_audio_start_past_any_seek_offset_gives_no_audio_and_no_error(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "src.mp4", frames=10, audio_codec="aac")
    out = tmp_path / "out.mp4"
    with VideoWriter(out, width=64, height=48, fps=Fraction(25), audio_from=source, audio_start_s=1e18) as writer:
        writer.write(frame_image(0, 64, 48))
    with av.open(str(out)) as container:
        sound = [p for p in container.demux(audio=0) if p.size] if container.streams.audio else []
    assert sound == []

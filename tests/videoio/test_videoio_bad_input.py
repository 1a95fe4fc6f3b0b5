"""Bad and unusual inputs: each gives the right VideoError subclass with a clear message, or
correct frames; never a hang and never a PyAV exception leaking past the API."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from videoio import (
    CorruptVideoError,
    EmptyVideoError,
    NotAVideoError,
    UnsupportedVideoError,
    VideoError,
    VideoReader,
    probe,
)
from videoio_clips import make_audio_only, make_clip

pytestmark = pytest.mark.timeout(60)


def test_text_file_named_mp4_is_not_a_video(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("these are my meeting notes, not a video\n" * 20)
    with pytest.raises(NotAVideoError, match=r"notes\.mp4 is not a video file"):
        probe(path)
    with pytest.raises(NotAVideoError):
        VideoReader(path)


def test_still_image_renamed_to_mp4_is_not_a_video(tmp_path: Path) -> None:
    import cv2
    import numpy as np

    path = tmp_path / "holiday.mp4"
    ok, data = cv2.imencode(".jpg", np.zeros((40, 60, 3), np.uint8))
    path.write_bytes(data.tobytes())
    with pytest.raises(NotAVideoError, match=r"holiday\.mp4 is a still image \(jpeg\), not a video"):
        probe(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.touch()
    with pytest.raises(EmptyVideoError, match=r"empty \(0 bytes\)"):
        probe(path)


def test_missing_file_is_a_video_error(tmp_path: Path) -> None:
    with pytest.raises(VideoError, match="file not found"):
        probe(tmp_path / "nowhere.mp4")


@pytest.mark.parametrize(("name", "codec"), [("tone.wav", "pcm_s16le"), ("tone.m4a", "aac")])
def test_audio_only_has_no_video_stream(tmp_path: Path, name: str, codec: str) -> None:
    path = make_audio_only(tmp_path / name, codec=codec)
    with pytest.raises(NotAVideoError, match=r"has no video stream \(it holds only audio\)"):
        probe(path)


def test_mp4_without_any_frame_is_empty(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "zero.mp4", frames=0)
    with pytest.raises(EmptyVideoError, match="no frames|no streams"):
        probe(path)


def test_fragmented_mp4_with_video_track_but_no_frames_is_empty(tmp_path: Path) -> None:
    # An empty moov declaring an H.264 track, and no fragment after it.
    path = make_clip(
        tmp_path / "empty_track.mp4",
        frames=0,
        container_format="mp4",
        container_options={"movflags": "frag_keyframe+empty_moov"},
    )
    with pytest.raises(EmptyVideoError, match="has a video stream but no frames"):
        probe(path)


def test_truncated_mp4_with_moov_at_the_end_is_corrupt(videos_dir: Path, tmp_path: Path) -> None:
    source = videos_dir / "mmpose_demo.mp4"  # ftyp, mdat, moov: the index is in the lost half
    cut = tmp_path / "cut.mp4"
    data = source.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptVideoError, match="truncated or damaged"):
        probe(cut)


def test_truncated_faststart_mp4_yields_the_frames_before_the_cut(videos_dir: Path, tmp_path: Path) -> None:
    source = videos_dir / "openpose_examples_media_video.avi"  # really MP4 with moov first, 205 frames
    cut = tmp_path / "cut.mp4"
    data = source.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    info = probe(cut)
    assert info.truncated and info.frame_count == 205
    with VideoReader(cut, threads=2) as reader:
        indexes = [frame.index for frame in reader]
    assert reader.truncated
    assert 50 < len(indexes) < 205
    assert indexes == list(range(len(indexes)))


def test_garbage_after_an_mp4_header_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "garbage.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(range(256)) * 64)
    with pytest.raises(CorruptVideoError, match="starts like an MP4/MOV file"):
        probe(path)


def test_first_packet_cut_short_is_corrupt(tmp_path: Path) -> None:
    # A tiny faststart clip cut in half: its first (key) frame is incomplete, nothing decodes.
    full = make_clip(tmp_path / "full.mp4", frames=30, container_options={"movflags": "+faststart"})
    cut = tmp_path / "cut.mp4"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptVideoError, match="damaged"):
        probe(cut)


def test_absurd_dimensions_are_unsupported(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "wide.mkv", width=8200, height=16, frames=1, codec="ffv1", pix_fmt="yuv420p")
    with pytest.raises(UnsupportedVideoError, match=r"8200x16.*larger than 8192"):
        probe(path)


def test_variable_frame_rate_keeps_the_real_timestamps(tmp_path: Path) -> None:
    time_base = Fraction(1, 1000)
    pts = [0, 40, 80, 200, 210, 220, 400, 440, 600, 640]  # milliseconds, irregular
    path = make_clip(tmp_path / "vfr.mkv", frames=len(pts), pts=pts, time_base=time_base, fps=Fraction(25))
    info = probe(path)
    with VideoReader(path) as reader:
        frames = list(reader)
    assert [f.time_s for f in frames] == pytest.approx([p / 1000 for p in pts])
    assert [f.index for f in frames] == list(range(len(pts)))
    assert info.fps > 0 and not info.fps_guessed


@pytest.mark.parametrize(("rotation_ccw", "rotation", "corner"), [(-90, 90, "tr"), (90, 270, "bl"), (180, 180, "br")])
def test_rotation_tag_gives_upright_frames_rotated_once(
    tmp_path: Path, rotation_ccw: int, rotation: int, corner: str
) -> None:
    # Stored 64x48 landscape with the marker top-left; the display matrix says how to turn it.
    path = make_clip(tmp_path / "phone.mp4", width=64, height=48, frames=3, rotation_ccw=rotation_ccw)
    info = probe(path)
    assert info.rotation == rotation
    assert (info.coded_width, info.coded_height) == (64, 48)
    expected_shape = (64, 48, 3) if rotation in (90, 270) else (48, 64, 3)
    assert (info.height, info.width, 3) == expected_shape
    from videoio_clips import marker_corner

    with VideoReader(path) as reader:
        frames = list(reader)
    assert len(frames) == 3
    for frame in frames:
        assert frame.image.shape == expected_shape
        assert frame.image.flags["C_CONTIGUOUS"]
        assert marker_corner(frame.image) == corner


def test_odd_frame_size_is_read_as_is(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "odd.mkv", width=321, height=241, frames=2, codec="ffv1", pix_fmt="yuv444p")
    info = probe(path)
    assert (info.width, info.height) == (321, 241)
    with VideoReader(path) as reader:
        assert [f.image.shape for f in reader] == [(241, 321, 3)] * 2


def test_4k_frames(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "uhd.mp4", width=3840, height=2160, frames=2)
    info = probe(path)
    assert (info.width, info.height, info.frame_count) == (3840, 2160, 2)
    with VideoReader(path) as reader:
        images = [f.image for f in reader]
    assert [i.shape for i in images] == [(2160, 3840, 3)] * 2


def test_mpeg4_part2_in_avi(videos_dir: Path) -> None:
    info = probe(videos_dir / "vtest.avi")
    assert info.container == "avi" and info.codec.startswith("msmpeg4")
    assert (info.width, info.height, info.fps, info.frame_count) == (768, 576, Fraction(10), 795)
    assert info.duration_s == pytest.approx(79.5)
    with VideoReader(videos_dir / "vtest.avi", end_s=1.0) as reader:
        frames = list(reader)
    assert [f.index for f in frames] == list(range(10))
    assert frames[3].time_s == pytest.approx(0.3)
    assert frames[0].image.shape == (576, 768, 3) and reader.decode_errors == 0


def test_mpeg4_part2_in_mp4(videos_dir: Path) -> None:
    info = probe(videos_dir / "mmtracking_demo.mp4")
    assert (info.codec, info.width, info.height, info.fps, info.frame_count) == (
        "mpeg4", 1920, 1080, Fraction(3), 8,
    )
    with VideoReader(videos_dir / "mmtracking_demo.mp4") as reader:
        assert sum(1 for _ in reader) == 8

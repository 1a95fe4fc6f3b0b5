"""VideoReader: frame ranges, stride, indexes and timestamps, frames without timestamps."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from videoio import VideoError, VideoReader
from videoio_clips import make_clip

pytestmark = pytest.mark.timeout(60)


def grey(image) -> int:  # type: ignore[no-untyped-def]
    return int(image[30, 40, 1])


def test_range_with_seek_on_real_avi(videos_dir: Path) -> None:
    with VideoReader(videos_dir / "vtest.avi", start_s=10.0, end_s=12.0, stride=3) as reader:
        expected = reader.frames_expected
        frames = list(reader)
    assert [f.index for f in frames] == list(range(100, 120, 3))
    assert [f.time_s for f in frames] == pytest.approx([i / 10 for i in range(100, 120, 3)])
    assert expected == len(frames) == 7


def test_seek_gives_the_same_pixels_as_reading_from_the_start(videos_dir: Path) -> None:
    with VideoReader(videos_dir / "mmaction2_test_video_structuralize.mp4", end_s=2.0) as reader:
        from_start = {f.index: f.image for f in reader}
    with VideoReader(videos_dir / "mmaction2_test_video_structuralize.mp4", start_s=1.5, end_s=2.0) as reader:
        seeked = list(reader)
    assert seeked[0].index == 45 and seeked[0].time_s == pytest.approx(45 * 1001 / 30000)
    for frame in seeked:
        assert (frame.image == from_start[frame.index]).all()


def test_a_reader_given_the_probe_does_not_probe_again(videos_dir: Path, monkeypatch) -> None:
    """The pipeline probes once and hands the result to each of its readers."""
    import videoio.reader
    from videoio import probe

    path = videos_dir / "vtest.avi"
    info = probe(path)
    with VideoReader(path, start_s=10.0, end_s=11.0, stride=2) as reader:
        probed = [(f.index, f.time_s, f.image.sum()) for f in reader]
    monkeypatch.setattr(videoio.reader, "probe", lambda _path: pytest.fail("probed again"))
    with VideoReader(path, start_s=10.0, end_s=11.0, stride=2, info=info) as reader:
        assert reader.info is info and reader.frames_expected == 5
        given = [(f.index, f.time_s, f.image.sum()) for f in reader]
    assert given == probed


def test_stride_from_start_counts_indexes(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "clip.mp4", frames=10)
    with VideoReader(path, stride=4) as reader:
        frames = list(reader)
        assert reader.frames_expected == 3
    assert [f.index for f in frames] == [0, 4, 8]
    assert [f.time_s for f in frames] == pytest.approx([0.0, 0.16, 0.32])
    assert [grey(f.image) for f in frames] == pytest.approx([20, 60, 100], abs=3)


def test_raw_h264_without_timestamps_uses_index_over_fps(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "clip.h264", frames=8, container_format="h264")
    with VideoReader(path) as reader:
        frames = list(reader)
    assert [f.time_s for f in frames] == pytest.approx([i / 25 for i in range(8)])
    with VideoReader(path, start_s=0.2) as reader:
        tail = list(reader)
    assert [f.index for f in tail] == [5, 6, 7]
    assert [grey(f.image) for f in tail] == pytest.approx([70, 80, 90], abs=3)


def test_reader_is_iterated_once_and_checks_arguments(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "clip.mp4", frames=3, fps=Fraction(10))
    with VideoReader(path) as reader:
        assert len(list(reader)) == 3
        with pytest.raises(VideoError, match="only once"):
            list(reader)
    with pytest.raises(ValueError, match="stride"):
        VideoReader(path, stride=0)
    with pytest.raises(ValueError, match="start_s < end_s"):
        VideoReader(path, start_s=2.0, end_s=1.0)


def test_mpegts_times_start_at_zero_and_range_start_works(tmp_path: Path) -> None:
    # MPEG-TS: the stream starts at a non-zero timestamp and has no index, so a seek lands
    # between keyframes; the reader must still find the frames of the range.
    path = make_clip(tmp_path / "clip.ts", frames=25, container_format="mpegts", audio_codec="aac")
    with VideoReader(path) as reader:
        assert reader.info.start_time_s > 0 and reader.info.has_audio
        assert [f.time_s for f in reader][:3] == pytest.approx([0.0, 0.04, 0.08])
    with VideoReader(path, start_s=0.5, end_s=0.7) as reader:
        frames = list(reader)
    assert [f.index for f in frames] == [13, 14, 15, 16, 17]
    assert [grey(f.image) for f in frames] == pytest.approx([150, 160, 170, 180, 190], abs=3)


@pytest.mark.parametrize("start_s", [30.0, 1e18, 1e300])
def test_a_start_past_the_end_yields_nothing(tmp_path: Path, start_s: float) -> None:
    # Any finite start is a valid option; one beyond what a seek offset can hold is no error.
    source = make_clip(tmp_path / "clip.mp4", frames=10, audio_codec="aac")
    with VideoReader(source, start_s=start_s) as reader:
        assert list(reader) == []

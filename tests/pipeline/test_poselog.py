"""Pass 1's log of people: rows go to a file a buffer at a time and come back unchanged."""
from __future__ import annotations

import numpy as np

from pipeline.poselog import NO_TRACK, FrameIndex, PoseLog, read_rows, row_dtype


def test_rows_round_trip_through_the_file_across_buffer_flushes(tmp_path) -> None:
    log = PoseLog(tmp_path / "poses.bin", num_parts=18, buffer_rows=3)
    rng = np.random.default_rng(0)
    written = []
    for seq in range(5):
        for person in range(2):
            keypoints = rng.random((18, 3)).astype(np.float32)
            box = rng.random(4).astype(np.float32)
            log.add(seq, seq * 2, seq / 10, track=person if seq % 2 else NO_TRACK, score=0.5 + person,
                    box=box, keypoints=keypoints)
            written.append((seq, keypoints, box))
    rows = log.close()
    assert len(rows) == log.rows == 10 and row_dtype(18).itemsize < 300  # "a few hundred bytes"
    assert (tmp_path / "poses.bin").stat().st_size == 10 * row_dtype(18).itemsize
    for row, (seq, keypoints, box) in zip(rows, written):
        assert row["seq"] == seq and row["frame"] == 2 * seq and np.isclose(row["time_s"], seq / 10)
        np.testing.assert_array_equal(row["keypoints"], keypoints)
        np.testing.assert_array_equal(row["box"], box)
    assert list(rows["track"][:4]) == [NO_TRACK, NO_TRACK, 0, 1]
    index = FrameIndex(rows)
    assert list(index.rows_of(3)["seq"]) == [3, 3] and len(index.rows_of(7)) == 0


def test_an_empty_log_reads_back_as_no_rows(tmp_path) -> None:
    log = PoseLog(tmp_path / "poses.bin", num_parts=18)
    rows = log.close()
    assert len(rows) == 0 and rows.dtype == row_dtype(18)
    assert len(FrameIndex(rows).rows_of(0)) == 0
    assert len(read_rows(tmp_path / "poses.bin", row_dtype(18))) == 0

"""MOTChallenge files: parsing, frame grouping, writing, and SORT scored on real MOT15 data."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tracking import MotFormatError, MotRecord, frames, read_mot, track_detections, write_mot


def test_read_pads_columns_and_frames_yields_empty_frames(tmp_path: Path) -> None:
    path = tmp_path / "det.txt"
    path.write_text("1,-1,10,20,30,40,0.9,-1,-1,-1\n\n3,-1,5,5,10,10,0.4\n3 -1 0 0\t2 2 0.8\n1,-1,1,2,3,4\n")
    rows = read_mot(path)
    assert rows.shape == (4, 10) and rows.dtype == np.float64
    np.testing.assert_array_equal(rows[3], [1, -1, 1, 2, 3, 4, -1, -1, -1, -1])
    grouped = list(frames(rows))
    assert [f for f, _, _ in grouped] == [1, 2, 3]
    np.testing.assert_array_equal(grouped[0][1], [[10, 20, 40, 60], [1, 2, 4, 6]])
    assert grouped[1][1].shape == (0, 4) and grouped[1][2].shape == (0,)
    np.testing.assert_array_equal(grouped[2][2], [0.4, 0.8])
    kept = list(frames(rows, min_score=0.5))
    assert [len(b) for _, b, _ in kept] == [1, 0, 1]


def test_an_empty_detections_file_tracks_nothing(tmp_path: Path) -> None:
    (tmp_path / "det.txt").write_text("\n")
    rows = read_mot(tmp_path / "det.txt")
    assert rows.shape == (0, 10) and list(frames(rows)) == [] and track_detections(rows) == []


@pytest.mark.parametrize("text, message", [
    ("1,-1,10,20\n", r"det.txt:1: expected at least 6"),
    ("1,-1,10,20,30,40,0.9\n2,-1,a,20,30,40,0.9\n", r"det.txt:2: not a number"),
    ("0,-1,10,20,30,40,0.9\n", r"det.txt:1: frame numbers are whole numbers starting at 1"),
    ("1,-1,10,20,-30,40,0.9\n", r"negative box width"),
])
def test_malformed_rows_name_the_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "det.txt"
    path.write_text(text)
    with pytest.raises(MotFormatError, match=message):
        read_mot(path)


def test_missing_binary_and_directory_inputs_are_reported(tmp_path: Path) -> None:
    with pytest.raises(MotFormatError, match="no such file"):
        read_mot(tmp_path / "absent.txt")
    with pytest.raises(MotFormatError, match="is a directory"):
        read_mot(tmp_path)
    (tmp_path / "video.bin").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01")
    with pytest.raises(MotFormatError, match="cannot read as text"):
        read_mot(tmp_path / "video.bin")


def test_write_then_read_round_trips_and_leaves_no_temp_files(tmp_path: Path) -> None:
    records = [MotRecord(1, 1, 10.0, 20.0, 30.0, 40.0, 0.95), MotRecord(2, 2, 1.5, 2.25, 3.0, 4.0)]
    assert write_mot(tmp_path / "hyp.txt", records) == 2
    assert (tmp_path / "hyp.txt").read_text().splitlines() == [
        "1,1,10.00,20.00,30.00,40.00,0.95,-1,-1,-1", "2,2,1.50,2.25,3.00,4.00,-1,-1,-1,-1"]
    assert [p.name for p in tmp_path.iterdir()] == ["hyp.txt"]
    with pytest.raises(MotFormatError, match="does not exist"):
        write_mot(tmp_path / "missing" / "hyp.txt", records)
    (tmp_path / "taken").mkdir()  # the rename onto a directory fails: a clear error, no temp file left
    with pytest.raises(MotFormatError, match="taken: cannot write there"):
        write_mot(tmp_path / "taken", records)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hyp.txt", "taken"]


def _mota_idf1(gt_path: Path, hyp_path: Path) -> tuple[float, float]:
    if not hasattr(np, "asfarray"):  # motmetrics 1.4 still calls np.asfarray, gone in NumPy 2
        np.asfarray = lambda a, dtype=float: np.asarray(a, dtype=dtype)
    import motmetrics as mm

    gt = mm.io.loadtxt(str(gt_path), fmt="mot15-2D", min_confidence=1)
    hyp = mm.io.loadtxt(str(hyp_path), fmt="mot15-2D")
    acc = mm.utils.compare_to_groundtruth(gt, hyp, "iou", distth=0.5)
    summary = mm.metrics.create().compute(acc, metrics=["mota", "idf1"], name="seq")
    return float(summary["mota"].iloc[0]), float(summary["idf1"].iloc[0])


@pytest.mark.filterwarnings("ignore:Operation with tuple is deprecated")  # inside motmetrics' reader
def test_sort_defaults_match_or_beat_the_reference_on_tud_campus(shared_data: Path, tmp_path: Path) -> None:
    seq = shared_data / "mot" / "MOT15" / "train" / "TUD-Campus"
    records = track_detections(read_mot(seq / "det" / "det.txt"))
    write_mot(tmp_path / "hyp.txt", records)
    ours = _mota_idf1(seq / "gt" / "gt.txt", tmp_path / "hyp.txt")
    reference = _mota_idf1(seq / "gt" / "gt.txt",
                           shared_data / "mot" / "reference_results" / "sort_abewley_default" / "TUD-Campus.txt")
    assert reference[0] == pytest.approx(0.627, abs=0.001)  # the published figure: the scoring is right
    assert ours[0] >= reference[0] and ours[1] >= reference[1]
    ids = sorted({r.track_id for r in records})
    assert ids == list(range(1, len(ids) + 1))  # dense, from 1

"""``posestudio track-mot`` end to end: real MOT15 detections in, MOTChallenge results out;
bad input gives one clear line on stderr and a non-zero exit, never a traceback or a file."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from posestudio.cli import main
from tracking import read_mot

ROOT = Path(__file__).resolve().parent.parent.parent


def posestudio(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "posestudio.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_track_mot_writes_the_reference_boxes_with_dense_ids(shared_data: Path, tmp_path: Path) -> None:
    mot = shared_data / "mot"
    out = tmp_path / "KITTI-17.txt"
    result = posestudio("track-mot", str(mot / "MOT15/train/KITTI-17/det/det.txt"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "523 rows, 18 tracks over 145 frames" in result.stdout
    hyp = read_mot(out)
    ref = read_mot(mot / "reference_results/sort_abewley_default/KITTI-17.txt")
    # Every box of the unmodified SORT reference, frame by frame, is ours too ...
    for row in ref:
        same_frame = hyp[hyp[:, 0] == row[0]]
        assert np.abs(same_frame[:, 2:6] - row[2:6]).max(axis=1).min() <= 0.011, row
    # ... and ours has 27 more: tracks reported again right after a missed frame, which the
    # reference hides for min_hits frames (tracking.sort's module docstring).
    assert len(hyp) == len(ref) + 27
    # ... but IDs from 1 without gaps (the reference's global counter reaches 59 here), and
    # each row carries the matched detection's score.
    assert sorted(set(hyp[:, 1].astype(int))) == list(range(1, 19))
    assert ((hyp[:, 6] > 0.5) & (hyp[:, 6] <= 1)).all() and (hyp[:, 7:] == -1).all()


def test_parameters_reach_the_tracker(shared_data: Path, tmp_path: Path) -> None:
    det = shared_data / "mot/MOT15/train/TUD-Campus/det/det.txt"
    counts = []
    for min_hits, min_score in (("3", "0"), ("0", "0"), ("0", "0.99")):
        out = tmp_path / f"hyp{min_hits}{min_score}.txt"
        assert main(["track-mot", str(det), "--out", str(out), "--min-hits", min_hits,
                     "--max-age", "2", "--iou-threshold", "0.3", "--min-score", min_score]) == 0
        counts.append(len(out.read_text().splitlines()))
    assert counts[1] > counts[0] > 0 and 0 < counts[2] < counts[1]


def test_missing_file_fails_with_one_line_in_a_subprocess(tmp_path: Path) -> None:
    result = posestudio("track-mot", str(tmp_path / "nope.txt"), "--out", str(tmp_path / "hyp.txt"))
    assert result.returncode == 1
    assert result.stderr.strip() == f"posestudio track-mot: {tmp_path / 'nope.txt'}: no such file"
    assert not (tmp_path / "hyp.txt").exists()


@pytest.mark.parametrize("det_text, extra, message", [
    ("1,-1,10,20,30,40,0.9\nframe,id,x\n", [], "det.txt:2: expected at least 6"),
    ("1,-1,10,20,30,40,0.9\n", ["--iou-threshold", "2"], "iou_threshold must be between 0 and 1"),
    ("1,-1,10,20,30,40,0.9\n", ["--max-age", "-1"], "max_age must be a whole number >= 0"),
])
def test_bad_input_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 det_text: str, extra: list[str], message: str) -> None:
    det = tmp_path / "det.txt"
    det.write_text(det_text)
    assert main(["track-mot", str(det), "--out", str(tmp_path / "hyp.txt"), *extra]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "hyp.txt").exists()


def test_unwritable_output_folder_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    det = tmp_path / "det.txt"
    det.write_text("1,-1,10,20,30,40,0.9\n")
    assert main(["track-mot", str(det), "--out", str(tmp_path / "no" / "hyp.txt")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_output_that_is_a_directory_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    det = tmp_path / "det.txt"
    det.write_text("1,-1,10,20,30,40,0.9\n")
    (tmp_path / "hyp").mkdir()
    result = posestudio("track-mot", str(det), "--out", str(tmp_path / "hyp"))
    assert result.returncode == 1
    assert result.stderr.strip() == f"posestudio track-mot: {tmp_path / 'hyp'}: cannot write there (Is a directory)"

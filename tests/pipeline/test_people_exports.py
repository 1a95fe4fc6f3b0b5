"""write_people_exports on synthetic final rows (pipeline.tracks.final_dtype) with known angles:
the files it writes, angles.csv's schema, the .mot and .trc read back by readers written from
OpenSim's descriptions, people.json and the per-person series, swaps, calibration, bad input."""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis import AngleNameError
from skeleton_poses import P, final_rows, side_view
from pipeline.people_exports import ANGLES_CSV_COLUMNS, write_people_exports

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "analysis"))
from opensim_readers import read_mot, read_trc  # noqa: E402

FPS = 30.0
VIDEO = {"width": 1280, "height": 720}


def knee_at(seq: int) -> float:
    return 40.0 + 30.0 * np.sin(seq / 5.0)


def two_people() -> np.ndarray:
    """Person 1: frames 0-59, facing right, knee bending as knee_at; frames 20-22 filled in.
    Person 3: frames 10-19 and 30-49 (a gap), facing left, elbow at 90. Untracked rows too."""
    one = [(s, side_view(knee=knee_at(s), origin=(300.0 + 2 * s, 400.0))) for s in range(60)]
    three = [(s, side_view(elbow=90.0, facing=-1, origin=(900.0, 400.0))) for s in (*range(10, 20), *range(30, 50))]
    return final_rows({1: one, 3: three}, fps=FPS, untracked=5, interpolated={1: {20, 21, 22}})


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("people")
    return out, write_people_exports(two_people(), fps=FPS, video=VIDEO, out_dir=out)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == ANGLES_CSV_COLUMNS
        return list(reader)


def test_the_files_written(written) -> None:
    out, result = written
    assert result.top_level == ("angles.csv", "people.json", "reps.csv")
    expected = {"angles.csv", "people.json", "reps.csv"} | {f"people/person_{i}{suffix}" for i in (1, 3) for suffix in
                                                (".json", "_angles.csv", "_angles.mot", "_keypoints.trc",
                                                                  "_rows.npy")}
    assert set(result.files) == expected
    assert {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} == expected
    assert [p["id"] for p in result.people] == [1, 3] and len(result.angle_names) == 20


def test_angles_csv_is_tidy_with_the_documented_columns(written) -> None:
    out, _ = written
    rows = read_csv(out / "angles.csv")
    assert ANGLES_CSV_COLUMNS[:6] == ("frame", "time_s", "track_id", "angle", "degrees", "interpolated")
    assert {r["track_id"] for r in rows} == {"1", "3"}  # untracked people have no angles
    knees = {int(r["frame"]): r for r in rows if r["track_id"] == "1" and r["angle"] == "right_knee"}
    assert sorted(knees) == list(range(60))
    for frame, row in knees.items():
        assert float(row["degrees"]) == pytest.approx(knee_at(frame), abs=0.01)
        assert float(row["time_s"]) == pytest.approx(frame / FPS, abs=1e-6)
        filled = frame in (20, 21, 22)
        assert row["interpolated"] == ("1" if filled else "0")
        assert (row["degrees_raw"] == "") == filled  # nothing was detected to measure there
        assert row["swapped"] == "0"
    # ordered by track, then frame, then angle (in the angles' order)
    keys = [(int(r["track_id"]), int(r["frame"])) for r in rows]
    assert keys == sorted(keys)
    assert [r["angle"] for r in rows[:3]] == ["right_knee", "left_knee", "right_hip"]
    elbows = [float(r["degrees"]) for r in rows if r["track_id"] == "3" and r["angle"] == "left_elbow"]
    assert len(elbows) == 30 and np.allclose(elbows, 90.0, atol=0.01)


def test_each_person_has_their_slice_of_the_csv(written) -> None:
    out, result = written
    everyone = read_csv(out / "angles.csv")
    for person in result.people:
        own = read_csv(out / person["files"]["csv"])
        assert own == [r for r in everyone if r["track_id"] == str(person["id"])]


def test_mot_reads_back_one_row_per_frame_with_nan_where_unseen(written) -> None:
    out, result = written
    mot = read_mot(out / "people/person_3_angles.mot")
    assert mot.header["inDegrees"] == "yes" and mot.columns == ["time", *result.angle_names]
    assert len(mot.data) == 40  # frames 10..49, the gap included
    np.testing.assert_allclose(mot.data[:, 0], np.arange(10, 50) / FPS, atol=1e-6)
    elbow = mot.data[:, mot.columns.index("right_elbow")]
    assert np.isnan(elbow[10:20]).all() and np.allclose(elbow[:10], 90.0) and np.allclose(elbow[20:], 90.0)
    one = read_mot(out / "people/person_1_angles.mot")
    np.testing.assert_allclose(one.data[:, one.columns.index("left_knee")], knee_at(np.arange(60)), atol=0.01)


def test_trc_reads_back_the_keypoints_in_pixels(written) -> None:
    out, _ = written
    trc = read_trc(out / "people/person_1_keypoints.trc")
    assert trc.header["Units"] == "px" and trc.header["NumMarkers"] == "18" and trc.header["DataRate"] == "30"
    assert trc.markers[:3] == ["Nose", "Neck", "RShoulder"] and trc.markers[-1] == "LEar"
    assert trc.frame_numbers[0] == 1 and len(trc.times) == 60
    expected = side_view(knee=knee_at(7), origin=(314.0, 400.0))
    np.testing.assert_allclose(trc.positions[7, :, :2], expected[:, :2], atol=0.01)
    assert np.all(trc.positions[7, :, 2] == 0.0)
    gap = read_trc(out / "people/person_3_keypoints.trc")
    assert np.isnan(gap.positions[10:20]).all() and np.isfinite(gap.positions[:10]).all()


def test_people_json_summarises_each_person(written) -> None:
    out, _ = written
    doc = json.loads((out / "people.json").read_text())
    assert doc["fps"] == FPS and doc["video"] == VIDEO and doc["calibration"] is None
    assert [a["name"] for a in doc["angles"]][:2] == ["right_knee", "left_knee"]
    knee = doc["angles"][0]
    assert knee["label"] == "Right knee" and knee["kind"] == "joint" and knee["zero"] == "straight leg"
    assert "heel" in doc["unavailable"]["right_ankle"]
    one, three = doc["people"]
    assert (one["id"], one["frames"], one["interpolated_frames"]) == (1, 60, 3)
    assert one["first_s"] == 0.0 and one["last_s"] == pytest.approx(59 / FPS, abs=1e-4)
    assert one["facing"] == {"left": 0, "right": 60, "frontal": 0, "back": 0}
    assert three["facing"] == {"left": 30, "right": 0, "frontal": 0, "back": 0}
    assert one["facing_source"] == "auto" and one["facing_runs"] == [[0.0, round(59 / FPS, 4), "right"]]
    summary = one["angles"]["right_knee"]
    values = knee_at(np.arange(60))
    assert summary["min"] == pytest.approx(values.min(), abs=0.01)
    assert summary["max"] == pytest.approx(values.max(), abs=0.01)
    assert summary["range"] == pytest.approx(np.ptp(values), abs=0.02)
    assert summary["mean"] == pytest.approx(values.mean(), abs=0.01) and summary["frames"] == 60
    assert three["spans"] == [[pytest.approx(10 / FPS, abs=1e-4), pytest.approx(20 / FPS, abs=1e-4)],
                              [pytest.approx(30 / FPS, abs=1e-4), pytest.approx(50 / FPS, abs=1e-4)]]
    assert one["speed"] == {"mean": pytest.approx(60.0, abs=0.01), "p95": pytest.approx(60.0, abs=0.01), "unit": "px/s"}
    assert one["boxes"][0][0] == 0.0 and len(one["boxes"]) >= 60 / FPS * 4
    assert len(one["pose"]["keypoints"]) == 18 and doc["parts"][0] == "nose" and [1, 2] in doc["limbs"]


def test_the_series_has_raw_and_smoothed_values(written) -> None:
    out, _ = written
    series = json.loads((out / "people/person_1.json").read_text())
    assert len(series["time_s"]) == 60 and series["frame"] == list(range(60))
    knee = series["angles"]["right_knee"]
    assert knee["smoothed"][5] == pytest.approx(knee_at(5), abs=0.05)
    assert knee["raw"][20] is None and knee["smoothed"][20] is not None  # filled in, not detected
    assert series["interpolated"][19:24] == [0, 1, 1, 1, 0]
    assert set(series["swapped"]) == {"arms", "legs"}


def test_a_leg_swap_is_undone_in_the_raw_angles_and_flagged(tmp_path: Path) -> None:
    frames = []
    for s in range(40):
        swing = 25.0 * np.sin(2 * np.pi * s / 30.0)
        frames.append((s, side_view(hip=swing, knee=20.0, left={"hip": -swing, "knee": 50.0})))
    rows = final_rows({2: frames}, fps=FPS)
    right, left = [P["right_knee"], P["right_ankle"]], [P["left_knee"], P["left_ankle"]]
    rows["keypoints_raw"][8][right + left] = rows["keypoints_raw"][8][left + right]  # detected swapped
    out = tmp_path
    write_people_exports(rows, fps=FPS, video=VIDEO, out_dir=out)
    by_angle = {(r["frame"], r["angle"]): r for r in read_csv(out / "angles.csv")}
    assert float(by_angle["8", "right_knee"]["degrees_raw"]) == pytest.approx(20.0, abs=0.01)
    assert float(by_angle["8", "left_knee"]["degrees_raw"]) == pytest.approx(50.0, abs=0.01)
    assert by_angle["8", "right_knee"]["swapped"] == "1" and by_angle["8", "right_elbow"]["swapped"] == "0"
    assert by_angle["9", "right_knee"]["swapped"] == "0"
    doc = json.loads((out / "people.json").read_text())
    assert doc["people"][0]["swapped_frames"] == {"arms": 0, "legs": 1}


def test_every_exchanged_frame_is_flagged_the_majority_window_too(tmp_path: Path) -> None:
    # The detector swapped the legs in frames 10-19 and 21-30 but not 20; smoothed across the
    # gap, the smoothed keypoints carry the swap through 20. The raw swap is undone in 10-19 and
    # 21-30; the smoothed keypoints follow the majority window (0.25 s), which also exchanges
    # frame 20: its labels were exchanged too, so it is flagged like the others.
    frames = [(s, side_view(hip=25.0, knee=20.0, left={"hip": -25.0, "knee": 50.0})) for s in range(45)]
    rows = final_rows({2: frames}, fps=FPS)
    right, left = [P["right_knee"], P["right_ankle"]], [P["left_knee"], P["left_ankle"]]
    for s in range(10, 31):
        rows["keypoints"][s][right + left] = rows["keypoints"][s][left + right]
        if s != 20:
            rows["keypoints_raw"][s][right + left] = rows["keypoints_raw"][s][left + right]
    write_people_exports(rows, fps=FPS, video=VIDEO, out_dir=tmp_path)
    knee = {int(r["frame"]): r for r in read_csv(tmp_path / "angles.csv") if r["angle"] == "right_knee"}
    assert [f for f in range(45) if knee[f]["swapped"] == "1"] == list(range(10, 31))
    assert all(float(knee[f]["degrees"]) == pytest.approx(20.0, abs=0.5) for f in range(45))
    series = json.loads((tmp_path / "people" / "person_2.json").read_text())
    assert [f for f, v in enumerate(series["swapped"]["legs"]) if v] == list(range(10, 31))


def test_metres_from_the_known_height_of_the_person_seen_longest(tmp_path: Path) -> None:
    result = write_people_exports(two_people(), fps=FPS, video=VIDEO, out_dir=tmp_path, person_height_m=1.75)
    calibration = result.calibration
    # side_view: shank 85 + thigh 90 + trunk 100 px = 0.779 of the standing height
    assert calibration["person"] == 1 and calibration["height_px"] == pytest.approx(275 / 0.779, abs=0.1)
    scale = calibration["metres_per_pixel"]
    trc = read_trc(tmp_path / "people/person_3_keypoints.trc")
    assert trc.header["Units"] == "m"
    neck = side_view(elbow=90.0, facing=-1, origin=(900.0, 400.0))[P["neck"]]
    np.testing.assert_allclose(trc.positions[0, P["neck"], :2], [neck[0] * scale, (720 - neck[1]) * scale], atol=1e-5)
    assert result.people[0]["speed"]["unit"] == "m/s"
    assert result.people[0]["speed"]["mean"] == pytest.approx(60.0 * scale, abs=1e-3)


def test_no_people_still_writes_the_files(tmp_path: Path) -> None:
    result = write_people_exports(final_rows({}, untracked=3), fps=FPS, video=VIDEO, out_dir=tmp_path,
                                  person_height_m=1.8)
    assert result.files == ("angles.csv", "people.json", "reps.csv") and result.people == ()
    assert (tmp_path / "angles.csv").read_text() == ",".join(ANGLES_CSV_COLUMNS) + "\n"
    assert json.loads((tmp_path / "people.json").read_text())["people"] == []
    assert result.warnings == ("person_height_m: nobody was tracked, so positions stay in pixels",)


def test_chosen_angles_only(tmp_path: Path) -> None:
    result = write_people_exports(two_people(), fps=FPS, video=VIDEO, out_dir=tmp_path,
                                  angle_names=["left_knee", "trunk"])
    assert result.angle_names == ("left_knee", "trunk")
    assert {r["angle"] for r in read_csv(tmp_path / "angles.csv")} == {"left_knee", "trunk"}


def test_bad_options_are_refused_naming_them(tmp_path: Path) -> None:
    rows = two_people()
    with pytest.raises(AngleNameError, match="right_wrist.*index"):
        write_people_exports(rows, fps=FPS, video=VIDEO, out_dir=tmp_path, angle_names=["right_wrist"])
    with pytest.raises(ValueError, match="person_height_m must be between 0.3 and 3.0 metres, got 175"):
        write_people_exports(rows, fps=FPS, video=VIDEO, out_dir=tmp_path, person_height_m=175)
    with pytest.raises(ValueError, match="fps must be > 0"):
        write_people_exports(rows, fps=0.0, video=VIDEO, out_dir=tmp_path)

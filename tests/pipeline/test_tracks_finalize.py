"""Between the passes: pass 1's rows of online tracklets become people, stitched, filled and
smoothed, with the raw keypoints kept and the filled frames flagged."""
from __future__ import annotations

import numpy as np

from pipeline.poselog import NO_TRACK, PoseLog
from pipeline.tracks import TrackSettings, finalize

FPS = 10.0


def _walker(x0: float, seq: int) -> tuple[np.ndarray, np.ndarray]:
    """A person 80 px tall walking right at 20 px/s: box and 18 keypoints (all visible)."""
    x = x0 + 2.0 * seq
    box = np.array([x, 100, x + 30, 180], dtype=np.float32)
    keypoints = np.zeros((18, 3), dtype=np.float32)
    keypoints[:, 0] = x + np.linspace(0, 30, 18)
    keypoints[:, 1] = np.linspace(100, 180, 18)
    keypoints[:, 2] = 0.8
    return box, keypoints


def _log(tmp_path, entries):
    log = PoseLog(tmp_path / "poses.bin", num_parts=18)
    for seq, track, score, x0 in entries:
        box, keypoints = _walker(x0, seq)
        log.add(seq, 2 * seq, seq / FPS, track=track, score=score, box=box, keypoints=keypoints)
    return log.close()


def _frame_table(n: int) -> np.ndarray:
    table = np.zeros(n, dtype=[("frame", "<i4"), ("time_s", "<f8")])
    table["frame"], table["time_s"] = 2 * np.arange(n), np.arange(n) / FPS
    return table


def test_two_tracklets_of_one_walker_become_one_person_with_the_gap_filled(tmp_path) -> None:
    # Tracklet 7: frames 0-19, then the walker is missed for 3 frames, tracklet 9: frames 23-39.
    # A far-away flicker (tracklet 8) was never confirmed; one detection had no tracklet at all.
    entries = [(s, 7, 0.9, 0.0) for s in range(20)] + [(s, 9, 0.9, 0.0) for s in range(23, 40)]
    entries += [(5, 8, 0.3, 500.0), (6, NO_TRACK, 0.2, 600.0)]
    entries.sort(key=lambda e: e[0])
    rows = _log(tmp_path, entries)
    final = finalize(rows, frame_table=_frame_table(40), confirmed={7, 9}, appearance={}, fps=FPS,
                     settings=TrackSettings(), out_path=tmp_path / "final.bin")
    assert (final.people, final.tracklets, final.interpolated) == (1, 2, 3)
    person = final.rows[final.rows["person"] == 1]
    assert list(person["seq"]) == list(range(40))  # the 3 missed frames are filled
    assert list(np.flatnonzero(person["interpolated"])) == [20, 21, 22]
    assert person["joint_interpolated"][20:23].all() and not person["joint_interpolated"][:20].any()
    assert (person["keypoints_raw"][20:23] == 0).all()  # nothing was detected there
    np.testing.assert_allclose(person["keypoints"][21, 0, 0], 2.0 * 21, atol=0.5)  # on the line
    assert list(person["frame"][:3]) == [0, 2, 4] and np.isclose(person["time_s"][21], 2.1)
    noise = final.rows[final.rows["person"] == 0]
    assert sorted(noise["seq"]) == [5, 6] and not noise["interpolated"].any()
    assert list(final.rows["seq"]) == sorted(final.rows["seq"])  # frame order for pass 2
    at_5 = final.rows[final.rows["seq"] == 5]
    assert list(at_5["score"]) == sorted(at_5["score"], reverse=True)  # best first


def test_without_stitching_each_tracklet_is_a_person_and_smoothing_off_keeps_raw(tmp_path) -> None:
    entries = sorted([(s, 7, 0.9, 0.0) for s in range(20)] + [(s, 9, 0.9, 0.0) for s in range(23, 40)])
    rows = _log(tmp_path, entries)
    final = finalize(rows, frame_table=_frame_table(40), confirmed={7, 9}, appearance={}, fps=FPS,
                     settings=TrackSettings(stitch=False, fill_gaps_s=0.0, smoothing="off"),
                     out_path=tmp_path / "final.bin")
    assert (final.people, final.interpolated) == (2, 0)
    assert set(final.rows["person"][final.rows["seq"] < 20]) == {1}
    assert set(final.rows["person"][final.rows["seq"] >= 23]) == {2}
    np.testing.assert_array_equal(final.rows["keypoints"], final.rows["keypoints_raw"])


def test_smoothing_removes_jitter_without_moving_the_path(tmp_path) -> None:
    """At 30 fps the "strong" 3 Hz low-pass keeps about a fifth of white noise's power."""
    rng = np.random.default_rng(1)
    log = PoseLog(tmp_path / "poses.bin", num_parts=18)
    for seq in range(60):
        box, keypoints = _walker(0.0, seq)
        noisy = keypoints.copy()
        noisy[:, :2] += rng.normal(0, 3.0, size=(18, 2))
        log.add(seq, seq, seq / 30, track=1, score=0.9, box=box, keypoints=noisy)
    rows = log.close()
    final = finalize(rows, frame_table=_frame_table(60), confirmed={1}, appearance={}, fps=30.0,
                     settings=TrackSettings(smoothing="strong"), out_path=tmp_path / "final.bin")
    truth = np.stack([_walker(0.0, s)[1][:, :2] for s in range(60)])
    raw_error = np.abs(final.rows["keypoints_raw"][:, :, :2] - truth).mean()
    smooth_error = np.abs(final.rows["keypoints"][:, :, :2] - truth).mean()
    assert smooth_error < 0.6 * raw_error


def test_no_people_at_all(tmp_path) -> None:
    rows = PoseLog(tmp_path / "poses.bin", num_parts=18).close()
    final = finalize(rows, frame_table=_frame_table(5), confirmed=set(), appearance={}, fps=FPS,
                     settings=TrackSettings(), out_path=tmp_path / "final.bin")
    assert (final.people, len(final.rows)) == (0, 0)


def test_world_coordinates_ride_along_with_a_33_part_person_and_are_nan_where_filled(tmp_path) -> None:
    """A skeleton with world coordinates (BlazePose): pass 1 keeps them per row, the final rows
    keep them as detected, and a filled-in frame has none (NaN) rather than invented ones."""
    log = PoseLog(tmp_path / "poses.bin", num_parts=33, world=True)
    for seq in [s for s in range(20) if s not in (8, 9)]:
        x = 2.0 * seq
        keypoints = np.zeros((33, 3), np.float32)
        keypoints[:, 0], keypoints[:, 1], keypoints[:, 2] = x + np.linspace(0, 30, 33), np.linspace(100, 180, 33), 0.8
        world = np.full((33, 3), seq / 100, np.float32)
        log.add(seq, 2 * seq, seq / FPS, track=3, score=0.9, box=np.array([x, 100, x + 30, 180], np.float32),
                keypoints=keypoints, world=world)
    rows = log.close()
    assert rows.dtype["world"].shape == (33, 3)
    final = finalize(rows, frame_table=_frame_table(20), confirmed={3}, appearance={}, fps=FPS,
                     settings=TrackSettings(), out_path=tmp_path / "final.bin")
    person = final.rows[final.rows["person"] == 1]
    assert list(person["seq"]) == list(range(20)) and list(np.flatnonzero(person["interpolated"])) == [8, 9]
    assert np.isnan(person["world"][8:10]).all()
    np.testing.assert_allclose(person["world"][12], 0.12)
    assert final.rows.dtype["keypoints"].shape == (33, 3)

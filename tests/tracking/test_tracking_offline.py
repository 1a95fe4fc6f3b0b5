"""The whole-video path: tracker output recorded, tracklets stitched, gaps filled, smoothed.
Synthetic scenes: an occlusion longer than the tracker's buffer, flicker, a false positive."""
from __future__ import annotations

import numpy as np
import pytest

from tracking import Sort, Tracklet, smoothing_preset, tracklets_from_rows
from tracking.offline import TrackRecorder, finalize_tracks

FPS = 25.0


def box(cx: float, cy: float = 300.0, w: float = 40.0, h: float = 100.0) -> list[float]:
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def skeleton(cx: float, jitter: np.random.Generator | None = None) -> np.ndarray:
    """(3, 3) keypoints (head, hip, ankle) of a person centred at cx, with optional jitter."""
    points = np.array([[cx, 260.0, 0.9], [cx, 300.0, 0.8], [cx, 345.0, 0.7]])
    if jitter is not None:
        points[:, :2] += jitter.normal(0, 1.5, (3, 2))
    return points


def run(frames: list[list[float]], tracker_options: dict, keypoints: list[np.ndarray] | None = None,
        **finalize):
    """Track ``frames`` (boxes per frame) with unconfirmed tracks reported, then finalize."""
    tracker = Sort(report_unconfirmed=True, **tracker_options)
    recorder = TrackRecorder()
    for f, boxes in enumerate(frames):
        recorder.add(f, tracker.update(np.array(boxes, dtype=np.float64).reshape(-1, 4)))
    rows = recorder.rows()
    kpts = None if keypoints is None else np.stack([keypoints[f] for f in rows.frames])
    return finalize_tracks(tracklets_from_rows(rows.frames, rows.serials, rows.boxes, kpts), fps=FPS, **finalize)


def test_a_person_hidden_ten_frames_keeps_one_id_after_stitching_and_the_gap_is_flagged() -> None:
    seen = [t for t in range(60) if not 20 <= t < 30]
    frames = [[box(100 + 4 * t)] if t in seen else [] for t in range(60)]
    people = run(frames, {"max_age": 3, "min_hits": 3}, max_gap_s=0.5)  # the tracker alone splits them
    assert [p.person_id for p in people] == [1]
    person = people[0]
    assert len(person.tracklet_ids) == 2 and person.frames.tolist() == list(range(60))
    assert person.interpolated.tolist() == [20 <= t < 30 for t in range(60)]
    np.testing.assert_allclose((person.boxes[:, 0] + person.boxes[:, 2]) / 2, 100 + 4 * np.arange(60), atol=1.0)
    unstitched = run(frames, {"max_age": 3, "min_hits": 3}, stitch=False)
    assert [p.person_id for p in unstitched] == [1, 2]
    short_fill = run(frames, {"max_age": 3, "min_hits": 3}, max_gap_s=0.2)  # 10 frames > 5: left open
    assert len(short_fill[0].frames) == 50 and not short_fill[0].interpolated.any()


def test_early_frames_of_a_confirmed_track_are_kept_and_false_positives_dropped() -> None:
    frames = [[] for _ in range(5)] + [[box(100 + 2 * t)] for t in range(20)]
    for t in (12, 13):
        frames[t].append(box(600))  # two frames of a false positive: never confirmed
    people = run(frames, {"max_age": 1, "min_hits": 3}, stitch=False)
    assert [p.frames.tolist() for p in people] == [list(range(5, 25))]  # with its first 3 frames
    online = Sort(max_age=1, min_hits=3)
    assert [len(online.update(np.array(b).reshape(-1, 4))) for b in frames[:9]] == [0] * 5 + [0, 0, 0, 1]


def test_flicker_every_other_frame_becomes_one_smooth_person() -> None:
    """Seen steadily for 6 frames (empty frames before), then only in every other frame."""
    rng = np.random.default_rng(4)
    seen = [t for t in range(10, 60) if t < 16 or t % 2 == 0]
    frames = [[box(100 + 3 * t)] if t in seen else [] for t in range(60)]
    keypoints = [skeleton(100 + 3 * t, rng) for t in range(60)]
    people = run(frames, {"max_age": 1, "min_hits": 3}, keypoints, smoothing=smoothing_preset("light"))
    assert len(people) == 1
    person = people[0]
    assert person.frames.tolist() == list(range(10, 59))
    assert person.interpolated.tolist() == [t not in seen for t in range(10, 59)]
    assert (person.keypoint_interpolated.all(axis=1) == person.interpolated).all()
    observed = ~person.interpolated
    np.testing.assert_array_equal(person.keypoints[observed], np.stack([keypoints[t] for t in seen]))  # raw kept
    truth = 100 + 3 * person.frames
    assert np.abs(person.keypoints_smoothed[:, 0, 0] - truth).mean() < np.abs(person.keypoints[:, 0, 0] - truth).mean()
    assert person.cutoff_hz == 6.0


def test_box_smoothing_is_optional_and_ids_are_dense_in_order_of_appearance() -> None:
    later = Tracklet(7, np.arange(30, 60), np.array([box(800.0)] * 30))
    earlier = Tracklet(3, np.arange(0, 40), np.array([box(100.0 + t) for t in range(40)]))
    people = finalize_tracks([later, earlier], fps=FPS)
    assert [(p.person_id, p.tracklet_ids) for p in people] == [(1, (3,)), (2, (7,))]
    np.testing.assert_array_equal(people[0].boxes_smoothed, people[0].boxes)
    assert people[0].keypoints is None and people[0].keypoints_smoothed is None
    wobbly = Tracklet(1, np.arange(60), np.array([box(300.0, w=40 + 8 * (t % 2)) for t in range(60)]))
    smooth = finalize_tracks([wobbly], fps=FPS, box_smoothing=smoothing_preset("strong"))[0]
    widths = smooth.boxes_smoothed[:, 2] - smooth.boxes_smoothed[:, 0]
    assert np.ptp(widths[10:-10]) < 1.0 and np.ptp(smooth.boxes[:, 2] - smooth.boxes[:, 0]) == pytest.approx(8.0)


def test_a_person_whose_tracklets_disagree_on_keypoints_is_an_error() -> None:
    a = Tracklet(1, np.arange(10), np.array([box(100.0 + 2 * t) for t in range(10)]), np.ones((10, 3, 3)))
    b = Tracklet(2, np.arange(12, 20), np.array([box(124.0 + 2 * t) for t in range(8)]))
    with pytest.raises(ValueError, match="some of its tracklets have keypoints"):
        finalize_tracks([a, b], fps=FPS)


def test_recorder_of_an_empty_video() -> None:
    rows = TrackRecorder().rows()
    assert rows.frames.shape == (0,) and rows.boxes.shape == (0, 4)
    assert finalize_tracks(tracklets_from_rows(rows.frames, rows.serials, rows.boxes), fps=FPS) == []

"""Sort on synthetic boxes where the right answer is exact: IDs, detection links, ageing."""
from __future__ import annotations

import numpy as np
import pytest

from tracking import InvalidDetectionsError, Sort, iou_matrix


def box(cx: float, cy: float, w: float = 40.0, h: float = 100.0) -> list[float]:
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def run_static(tracker: Sort, frames: int, boxes: list[list[float]]) -> list[list[int]]:
    """Feed the same boxes for ``frames`` frames; return the reported IDs per frame."""
    return [[o.track_id for o in tracker.update(np.array(boxes))] for _ in range(frames)]


def test_crossing_boxes_keep_their_ids_whatever_the_input_order() -> None:
    tracker = Sort()
    rng = np.random.default_rng(0)
    id_of: dict[str, set[int]] = {"right": set(), "left": set()}
    for t in range(40):
        walkers = {"right": box(100 + 10 * t, 200), "left": box(490 - 10 * t, 215)}
        names = list(walkers)
        rng.shuffle(names)
        outputs = tracker.update(np.array([walkers[n] for n in names]))
        assert len(outputs) == 2
        for obj in outputs:
            id_of[names[obj.detection_index]].add(obj.track_id)
    assert id_of == {"right": {1}, "left": {2}} or id_of == {"right": {2}, "left": {1}}


def test_detection_index_and_score_point_at_the_matched_row() -> None:
    tracker = Sort(min_hits=0)
    boxes = np.array([box(100, 100), box(300, 100), box(500, 100)])
    scores = np.array([0.9, 0.8, 0.7])
    for step in range(5):
        order = np.roll(np.arange(3), step)
        moved = boxes[order] + [3 * step, 0, 3 * step, 0]
        outputs = tracker.update(moved, scores[order])
        assert sorted(o.detection_index for o in outputs) == [0, 1, 2]
        for obj in outputs:
            assert iou_matrix(obj.box[None], moved[obj.detection_index][None])[0, 0] > 0.9
            assert obj.score == scores[order][obj.detection_index]
            assert obj.box.shape == (4,) and obj.box.dtype == np.float64
    assert {o.track_id for o in outputs} == {1, 2, 3}
    assert tracker.update(boxes[:1])[0].score is None  # no scores passed: no score reported


def test_ids_start_at_1_are_dense_and_restart_after_reset_and_per_instance() -> None:
    tracker = Sort()  # max_age=1, min_hits=3
    assert run_static(tracker, 4, [box(100, 100)])[-1] == [1]
    # A one-frame false positive after warm-up is never confirmed, so it takes no ID ...
    assert [o.track_id for o in tracker.update(np.array([box(100, 100), box(400, 100)]))] == [1]
    for _ in range(3):
        tracker.update(np.array([box(100, 100)]))
    # ... and the next real person gets 2, not 3.
    reported = run_static(tracker, 4, [box(100, 100), box(600, 100)])
    assert reported[-1] == [1, 2]
    assert reported[:3] == [[1]] * 3  # confirmed only on its fourth consecutive frame
    tracker.reset()
    assert tracker.frame_count == 0
    assert run_static(tracker, 1, [box(600, 100), box(100, 100)]) == [[1, 2]]
    assert run_static(Sort(), 1, [box(50, 50)]) == [[1]]


def test_every_track_is_reported_during_the_first_min_hits_frames() -> None:
    tracker = Sort(min_hits=3)
    frames = [tracker.update(np.array([box(100, 100)] + [box(200 + 100 * k, 100) for k in range(t)]))
              for t in range(4)]
    # Frame 4: the boxes reported in frames 2 and 3 stay reported (they have IDs) ...
    assert [len(f) for f in frames] == [1, 2, 3, 3]
    # ... while a box that first appears after the first min_hits frames waits for its hits.
    later = [tracker.update(np.array([box(100, 100), box(200, 100), box(300, 100), box(900, 400)]))
             for _ in range(4)]
    assert [len(f) for f in later] == [3, 3, 3, 4]  # like any new track: on its fourth frame


def test_a_reported_track_is_reported_again_right_after_a_missed_frame() -> None:
    """The reference hides it for min_hits frames after every miss (its hit streak restarts)."""
    tracker = Sort(max_age=3, min_hits=3)
    walker = [box(100 + 5 * t, 100) for t in range(20)]
    frames = [tracker.update(np.array([walker[t]])) for t in range(5)]
    assert [len(f) for f in frames] == [1, 1, 1, 1, 1]
    assert tracker.update(np.empty((0, 4))) == []  # missed: nothing to report
    again = tracker.update(np.array([walker[6]]))
    assert [o.track_id for o in again] == [1]


def test_empty_frames_are_fine_and_age_tracks_out() -> None:
    tracker = Sort(max_age=1)
    assert tracker.update(np.empty((0, 4))) == []
    assert tracker.update([]) == []
    run_static(tracker, 4, [box(100, 100)])
    assert tracker.update(np.zeros((0, 4)), np.zeros(0)) == []
    assert tracker.update(np.empty((0, 4))) == []  # two misses > max_age: the track is gone
    assert [o.track_id for o in tracker.update(np.array([box(100, 100)]))] == []
    assert run_static(tracker, 3, [box(100, 100)])[-1] == [2]


@pytest.mark.parametrize("gap, max_age, same_id", [(1, 1, True), (2, 1, False), (3, 3, True), (4, 3, False)])
def test_max_age_decides_whether_a_track_survives_a_gap(gap: int, max_age: int, same_id: bool) -> None:
    tracker = Sort(max_age=max_age, min_hits=1)
    walker = [box(100 + 5 * t, 100) for t in range(20)]
    first = [tracker.update(np.array([walker[t]])) for t in range(5)][-1][0].track_id
    for _ in range(gap):
        tracker.update(np.empty((0, 4)))
    later = [tracker.update(np.array([walker[t]])) for t in range(5 + gap, 8 + gap)]
    ids = {o.track_id for frame in later for o in frame}
    assert ids == ({first} if same_id else {first + 1})


def test_iou_threshold_separates_a_jump_from_a_step() -> None:
    tracker = Sort(min_hits=0, iou_threshold=0.5)
    tracker.update(np.array([box(100, 100)]))
    assert tracker.update(np.array([box(110, 100)]))[0].track_id == 1  # IoU 0.6
    assert tracker.update(np.array([box(150, 100)]))[0].track_id == 2  # IoU < 0.5: new track


def test_zero_area_boxes_are_tracked_without_nan() -> None:
    tracker = Sort(min_hits=0)
    for _ in range(3):  # a person seen as a single keypoint gives a point-sized box
        out = tracker.update(np.array([[50.0, 60.0, 50.0, 60.0], [80.0, 10.0, 80.0, 90.0]]))
    assert [o.track_id for o in out] == [1, 2]
    assert all(np.isfinite(o.box).all() for o in out)


@pytest.mark.parametrize("boxes, scores, message", [
    (np.zeros((2, 5)), None, "shape"),
    ([[0, 0, np.nan, 10]], None, "not finite"),
    ([[10, 0, 0, 10]], None, "x2 < x1"),
    ([[0, 0, 10, 10]], [0.5, 0.6], "scores must have shape"),
])
def test_malformed_input_raises_a_clear_error(boxes: object, scores: object, message: str) -> None:
    with pytest.raises(InvalidDetectionsError, match=message):
        Sort().update(boxes, scores)


@pytest.mark.parametrize("kwargs", [{"max_age": -1}, {"min_hits": 1.5}, {"iou_threshold": 1.2}])
def test_bad_parameters_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        Sort(**kwargs)

"""Offline stitching on synthetic tracklets: occlusions and re-entries are linked, crossings
follow the motion, overlapping tracklets never merge, IDs are dense from 1."""
from __future__ import annotations

import numpy as np
import pytest

from tracking import InvalidDetectionsError
from tracking.stitch import renumber, stitch_tracklets
from tracking.tracklet import Tracklet, tracklets_from_rows

FPS = 25.0


def walker(track_id: int, frames: range, x0: float, vx: float, y: float = 300.0, height: float = 100.0,
           appearance: np.ndarray | None = None) -> Tracklet:
    """A person walking at ``vx`` pixels/frame, at x0 in frame 0, observed in ``frames``."""
    t = np.array(list(frames), dtype=np.float64)
    cx = x0 + vx * t
    boxes = np.column_stack([cx - 0.2 * height, np.full_like(t, y - height / 2), cx + 0.2 * height,
                             np.full_like(t, y + height / 2)])
    return Tracklet(track_id, np.array(list(frames)), boxes, appearance=appearance)


def people_of(mapping: dict[int, int], *groups: tuple[int, ...]) -> list[set[int]]:
    return [{mapping[i] for i in group} for group in groups]


def test_a_person_hidden_ten_frames_is_one_person() -> None:
    tracklets = [walker(7, range(0, 40), 100, 3), walker(9, range(50, 90), 100, 3)]
    assert stitch_tracklets(tracklets, fps=FPS) == {7: 1, 9: 1}


def test_a_re_entry_after_two_seconds_is_linked_and_a_stranger_far_away_is_not() -> None:
    tracklets = [walker(1, range(0, 50), 100, 2),  # leaves behind a pillar at x = 200
                 walker(2, range(100, 150), 100, 2),  # comes out at x = 300, same pace
                 walker(3, range(100, 150), 900, -2)]  # someone else, across the scene
    mapping = stitch_tracklets(tracklets, fps=FPS)
    assert mapping[1] == mapping[2] != mapping[3]
    # Beyond max_gap_s they stay apart.
    assert len(set(stitch_tracklets(tracklets, fps=FPS, max_gap_s=1.0).values())) == 3


def test_crossing_people_split_at_the_crossing_are_rejoined_by_their_motion() -> None:
    # Two people cross at x = 300 around frame 50; both are lost for 8 frames there.
    right = [walker(1, range(0, 46), 100, 4), walker(4, range(54, 100), 100, 4)]
    left = [walker(2, range(0, 46), 500, -4, y=310), walker(3, range(54, 100), 500, -4, y=310)]
    mapping = stitch_tracklets(right + left, fps=FPS)
    assert people_of(mapping, (1, 4), (2, 3)) == [{1}, {2}]


def test_appearance_decides_between_two_candidates_that_motion_cannot_tell_apart() -> None:
    red, blue = np.array([1.0, 0, 0, 0]), np.array([0, 0, 0, 1.0])
    # Two people walk side by side, vanish together and reappear together, a little apart.
    tracklets = [walker(1, range(0, 30), 100, 3, y=300, appearance=red),
                 walker(2, range(0, 30), 100, 3, y=320, appearance=blue),
                 walker(3, range(40, 70), 100, 3, y=320, appearance=red),
                 walker(4, range(40, 70), 100, 3, y=300, appearance=blue)]
    mapping = stitch_tracklets(tracklets, fps=FPS)
    assert mapping[1] == mapping[3] and mapping[2] == mapping[4] and mapping[1] != mapping[2]
    no_colour = [Tracklet(t.track_id, t.frames, t.boxes) for t in tracklets]
    by_motion = stitch_tracklets(no_colour, fps=FPS)
    assert by_motion[1] == by_motion[4] and by_motion[2] == by_motion[3]  # the nearer one wins


def test_tracklets_that_overlap_in_time_are_never_merged() -> None:
    # A perfect continuation, except that it starts one frame before the first one ends.
    overlapping = [walker(1, range(0, 40), 100, 3), walker(2, range(39, 80), 100, 3)]
    assert stitch_tracklets(overlapping, fps=FPS) == {1: 1, 2: 2}
    touching = [walker(1, range(0, 40), 100, 3), walker(2, range(40, 80), 100, 3)]
    assert stitch_tracklets(touching, fps=FPS) == {1: 1, 2: 1}


def test_no_person_ever_has_two_tracklets_at_the_same_time() -> None:
    rng = np.random.default_rng(7)
    tracklets = []
    for k in range(60):  # many short, crowded tracklets: plenty of candidate links
        start = int(rng.integers(0, 400))
        tracklets.append(walker(k + 1, range(start, start + int(rng.integers(5, 60))),
                                float(rng.uniform(0, 800)), float(rng.normal(0, 3))))
    mapping = stitch_tracklets(tracklets, fps=FPS, max_gap_s=5.0, position_tolerance=3.0, max_cost=2.0)
    assert len(set(mapping.values())) < len(tracklets)  # some links were made
    for person in set(mapping.values()):
        frames = np.concatenate([t.frames for t in tracklets if mapping[t.track_id] == person])
        assert len(frames) == len(np.unique(frames)), person


def test_ids_are_dense_from_1_in_order_of_first_appearance() -> None:
    tracklets = [walker(40, range(30, 60), 500, 0), walker(5, range(0, 20), 100, 0),
                 walker(17, range(10, 25), 900, 0), walker(8, range(25, 40), 100, 0)]
    mapping = stitch_tracklets(tracklets, fps=FPS)
    assert mapping == {5: 1, 8: 1, 17: 2, 40: 3}
    assert renumber(tracklets) == {5: 1, 17: 2, 8: 3, 40: 4}
    assert stitch_tracklets([], fps=FPS) == {}


def test_size_change_beyond_the_gate_is_not_linked() -> None:
    small = walker(1, range(0, 30), 100, 2, height=100)
    big = walker(2, range(35, 60), 100, 2, height=200, y=250)
    assert stitch_tracklets([small, big], fps=FPS) == {1: 1, 2: 2}
    assert stitch_tracklets([small, big], fps=FPS, max_size_ratio=2.5, position_tolerance=2.0) == {1: 1, 2: 1}


def test_tracklets_from_rows_group_by_id_and_check_them() -> None:
    frames = [3, 1, 2, 1, 2]
    ids = [7, 7, 7, 4, 4]
    boxes = np.arange(20, dtype=np.float64).reshape(5, 4)
    hists = np.array([[1, 0], [0, 1], [np.nan, np.nan], [1, 0], [1, 0]], dtype=np.float64)
    tracklets = tracklets_from_rows(frames, ids, boxes, appearances=hists)
    # In order of first frame, then ID; each tracklet's rows in frame order.
    assert [(t.track_id, t.frames.tolist()) for t in tracklets] == [(4, [1, 2]), (7, [1, 2, 3])]
    np.testing.assert_array_equal(tracklets[1].boxes, boxes[[1, 2, 0]])
    np.testing.assert_allclose(tracklets[1].appearance, [0.5, 0.5])  # mean of the known rows
    with pytest.raises(InvalidDetectionsError, match="track 7 appears twice in frame 1"):
        tracklets_from_rows([1, 1], [7, 7], np.zeros((2, 4)))
    with pytest.raises(InvalidDetectionsError, match="strictly increasing"):
        Tracklet(1, [2, 1], np.zeros((2, 4)))
    with pytest.raises(InvalidDetectionsError, match="no frames"):
        Tracklet(1, [], np.zeros((0, 4)))
    with pytest.raises(ValueError, match="distinct track_id"):
        stitch_tracklets([walker(1, range(3), 0, 0), walker(1, range(5, 8), 0, 0)], fps=FPS)
    with pytest.raises(ValueError, match="fps"):
        stitch_tracklets([], fps=0.0)

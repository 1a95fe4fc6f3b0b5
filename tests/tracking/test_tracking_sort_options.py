"""Sort's optional additions on synthetic scenes where the right answer is exact: the low-score
round, ORU / OCR, the lost-track buffer in seconds, keypoint and appearance costs, and
reporting unconfirmed tracks. Each test also shows the scene failing without the option."""
from __future__ import annotations

import numpy as np
import pytest

from tracking import InvalidDetectionsError, Sort
from tracking.kalman_box import KalmanBoxTrack


def box(cx: float, cy: float, w: float = 40.0, h: float = 100.0) -> list[float]:
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def ids_of(outputs) -> list[int | None]:
    return [o.track_id for o in outputs]


def walk(tracker: Sort, boxes_per_frame: list[list[list[float]]], **per_frame) -> list[list[int | None]]:
    """Feed the frames; return the reported IDs of each frame (in detection order)."""
    reported = []
    for t, boxes in enumerate(boxes_per_frame):
        extra = {k: v[t] for k, v in per_frame.items()}
        outputs = tracker.update(np.array(boxes, dtype=np.float64).reshape(-1, 4), **extra)
        by_det = {o.detection_index: o.track_id for o in outputs}
        reported.append([by_det.get(i) for i in range(len(boxes))])
    return reported


def test_options_off_give_exactly_sorts_output() -> None:
    rng = np.random.default_rng(3)
    frames = [[box(100 + 7 * t + rng.normal(0, 2), 200), box(400 - 6 * t, 210 + rng.normal(0, 2))]
              for t in range(30)]
    frames[10], frames[11] = [], [frames[11][0]]
    plain = Sort(max_age=3)
    explicit = Sort(max_age=3, low_score_threshold=None, observation_reupdate=False, observation_recovery=False,
                    keypoint_weight=0.0, appearance_weight=0.0)
    for boxes in frames:
        a = plain.update(np.array(boxes).reshape(-1, 4))
        b = explicit.update(np.array(boxes).reshape(-1, 4))
        assert [(o.track_id, o.detection_index) for o in a] == [(o.track_id, o.detection_index) for o in b]
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x.box, y.box)


# --- low-score second round (ByteTrack) -------------------------------------------------------

def test_low_score_detections_keep_a_track_alive_but_never_start_one() -> None:
    walker = [[box(100 + 5 * t, 200)] for t in range(20)]
    scores = [np.array([0.9 if t < 6 or t >= 14 else 0.2]) for t in range(20)]  # faint for 8 frames
    byte = walk(Sort(max_age=1, low_score_threshold=0.5), walker, scores=scores)
    assert byte[3:] == [[1]] * 17  # matched in round 2 through the faint frames: reported throughout
    # Without the second round the faint detections are ordinary ones: the same ID too ...
    assert walk(Sort(max_age=1), walker, scores=scores)[3:] == [[1]] * 17
    # ... but dropping them (a plain score filter) loses the track: it comes back as ID 2.
    filtered = [b if s[0] >= 0.5 else [] for b, s in zip(walker, scores)]
    plain = walk(Sort(max_age=1), filtered)
    assert plain[14:17] == [[None]] * 3 and plain[17:] == [[2]] * 3
    # A faint detection on its own never starts a track, however long it stays.
    ghost = walk(Sort(min_hits=0, low_score_threshold=0.5), [[box(300, 300)]] * 6,
                 scores=[np.array([0.3])] * 6)
    assert ghost == [[None]] * 6


def test_low_score_round_only_serves_tracks_seen_in_the_previous_frame() -> None:
    tracker = Sort(max_age=5, min_hits=0, low_score_threshold=0.5)
    walk(tracker, [[box(100, 200)]] * 3, scores=[np.array([0.9])] * 3)
    tracker.update(np.empty((0, 4)), np.empty(0))  # missed once: the track is lost, not tracked
    assert ids_of(tracker.update(np.array([box(100, 200)]), np.array([0.2]))) == []
    assert ids_of(tracker.update(np.array([box(100, 200)]), np.array([0.9]))) == [1]


def test_low_score_threshold_needs_scores() -> None:
    with pytest.raises(InvalidDetectionsError, match="scores are required"):
        Sort(low_score_threshold=0.5).update(np.array([box(1, 1)]))
    assert Sort(low_score_threshold=0.5).update(np.empty((0, 4))) == []


# --- OC-SORT: observation-centric re-update and recovery -------------------------------------

def test_oru_reruns_the_filter_over_the_gap_on_the_straight_line_between_observations() -> None:
    seen = [np.array(box(100 + 4 * t, 200), dtype=np.float64) for t in range(6)]
    back = np.array(box(100 + 4 * 5 + 60, 240), dtype=np.float64)  # 6 frames later, elsewhere
    with_oru, reference = KalmanBoxTrack(seen[0]), KalmanBoxTrack(seen[0])
    for b in seen[1:]:
        for track in (with_oru, reference):
            track.predict()
            track.update(b)
    for _ in range(6):
        with_oru.predict()
    with_oru.update(back, reupdate=True)
    for step in range(1, 7):  # the same filter, fed the virtual observations explicitly
        reference.predict()
        reference.update(seen[-1] + (back - seen[-1]) * step / 6)
    np.testing.assert_allclose(with_oru.kf.x, reference.kf.x, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(with_oru.kf.P, reference.kf.P, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(with_oru.last_observation, back)
    plain = KalmanBoxTrack(seen[0])
    for b in seen[1:]:
        plain.predict()
        plain.update(b)
    for _ in range(6):
        plain.predict()
    plain.update(back)
    assert plain.kf.P[0, 0] > 1.3 * reference.kf.P[0, 0]  # without ORU the gap stays unobserved


def hidden_turn(tracker: Sort) -> list[list[int | None]]:
    """A walker moving right fast, hidden 10 frames during which they stopped, seen again where
    they were last seen: the Kalman prediction has run 100+ pixels away."""
    frames = [[box(100 + 12 * t, 200)] for t in range(8)] + [[]] * 10 + [[box(100 + 12 * 7, 200)]] * 6
    return walk(tracker, frames)


def test_ocr_recovers_a_track_from_its_last_observation_after_a_hidden_stop() -> None:
    assert hidden_turn(Sort(max_age=12, observation_recovery=True))[18:] == [[1]] * 6
    assert hidden_turn(Sort(max_age=12))[-1] == [2]  # the prediction no longer overlaps: new ID


def test_a_person_hidden_ten_frames_keeps_the_id_with_a_long_enough_buffer() -> None:
    frames = [[box(100 + 5 * t, 200)] for t in range(10)] + [[]] * 10 + \
             [[box(100 + 5 * t, 200)] for t in range(20, 30)]
    for options in ({"max_age": 10}, {"max_age": 10, "observation_reupdate": True, "observation_recovery": True},
                    {"lost_track_buffer_s": 0.4, "fps": 25.0}):
        assert walk(Sort(**options), frames)[20:] == [[1]] * 10, options
    assert walk(Sort(max_age=3), frames)[-1] == [2]  # today's pipeline setting loses them


# --- lost-track buffer in seconds ---------------------------------------------------------------

@pytest.mark.parametrize("seconds, fps, frames", [(0.5, 30.0, 15), (1.0, 10.0, 10), (0.12, 25.0, 3), (0.0, 30, 0)])
def test_lost_track_buffer_in_seconds_becomes_frames(seconds: float, fps: float, frames: int) -> None:
    assert Sort(lost_track_buffer_s=seconds, fps=fps, max_age=99).max_age == frames
    assert Sort(max_age=7).max_age == 7  # max_age alone works as before


@pytest.mark.parametrize("kwargs, message", [
    ({"lost_track_buffer_s": 1.0}, "needs the video's fps"),
    ({"lost_track_buffer_s": 1.0, "fps": 0.0}, "needs the video's fps"),
    ({"lost_track_buffer_s": -1.0, "fps": 25.0}, "lost_track_buffer_s must be >= 0"),
    ({"keypoint_weight": 1.5}, "keypoint_weight"),
    ({"appearance_weight": -0.1}, "appearance_weight"),
    ({"keypoint_kappa": 0.0}, "keypoint_kappa"),
    ({"low_score_iou_threshold": 2.0}, "low_score_iou_threshold"),
])
def test_bad_option_values_are_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Sort(**kwargs)


# --- skeleton and appearance costs ---------------------------------------------------------------

def two_people_in_one_box(t: int) -> tuple[list[list[float]], list[str]]:
    """Two people standing in the same place (one behind the other): identical boxes, the
    detections' order changing every frame. Only their skeletons or colours tell them apart."""
    names = ["arms up", "arms down"] if t % 2 == 0 else ["arms down", "arms up"]
    return [box(200, 200), box(200, 200)], names


def skeleton(name: str) -> np.ndarray:
    """(18, 3) keypoints in a 40x100 box centred at (200, 200); the wrists differ."""
    points = np.array([[200, 160 + 4 * k] for k in range(18)], dtype=np.float64)
    points[4] = [185, 150] if name == "arms up" else [185, 195]
    points[7] = [215, 150] if name == "arms up" else [215, 195]
    return np.column_stack([points, np.ones(18)])


def histogram(name: str) -> np.ndarray:
    """A 16-bin colour histogram: one person's colours fill the first half, the other's the second."""
    h = np.zeros(16)
    h[slice(0, 8) if name == "arms up" else slice(8, 16)] = 1.0 / 8
    return h


def identities(tracker: Sort, cue: str) -> dict[str, set[int]]:
    seen: dict[str, set[int]] = {"arms up": set(), "arms down": set()}
    for t in range(12):
        boxes, names = two_people_in_one_box(t)
        extra = {}
        if cue == "keypoints":
            extra["keypoints"] = np.stack([skeleton(n) for n in names])
        if cue == "appearance":
            extra["appearances"] = np.stack([histogram(n) for n in names])
        for obj in tracker.update(np.array(boxes), **extra):
            seen[names[obj.detection_index]].add(obj.track_id)
    return seen


@pytest.mark.parametrize("cue, options", [("keypoints", {"keypoint_weight": 0.5}),
                                          ("appearance", {"appearance_weight": 0.5})])
def test_skeleton_or_appearance_cost_keeps_ids_where_boxes_cannot(cue: str, options: dict) -> None:
    assert identities(Sort(min_hits=0, **options), cue) == {"arms up": {1}, "arms down": {2}}
    swapped = identities(Sort(min_hits=0), cue)  # IoU alone: both IDs go to both people
    assert swapped == {"arms up": {1, 2}, "arms down": {1, 2}}


def test_crossing_walkers_keep_their_ids_with_every_option_on() -> None:
    tracker = Sort(max_age=5, low_score_threshold=0.3, observation_reupdate=True, observation_recovery=True,
                   keypoint_weight=0.3, appearance_weight=0.3)
    seen: dict[str, set[int]] = {"right": set(), "left": set()}
    rng = np.random.default_rng(1)
    for t in range(40):
        walkers = {"right": 100 + 10 * t, "left": 490 - 10 * t}
        names = list(walkers)
        rng.shuffle(names)
        kpts = np.stack([skeleton("arms up" if n == "right" else "arms down") +
                         [walkers[n] - 200, 0, 0] for n in names])
        hists = np.stack([histogram("arms up" if n == "right" else "arms down") for n in names])
        outputs = tracker.update(np.array([box(walkers[n], 200 + 15 * (n == "left")) for n in names]),
                                 np.array([0.9, 0.9]), keypoints=kpts, appearances=hists)
        for obj in outputs:
            seen[names[obj.detection_index]].add(obj.track_id)
    assert seen == {"right": {1}, "left": {2}} or seen == {"right": {2}, "left": {1}}


def test_missing_cues_are_an_error_or_fall_back_to_iou() -> None:
    with pytest.raises(InvalidDetectionsError, match="keypoints"):
        Sort(keypoint_weight=0.5).update(np.array([box(1, 1)]))
    with pytest.raises(InvalidDetectionsError, match=r"keypoints must have shape \(1, K, 3\)"):
        Sort(keypoint_weight=0.5).update(np.array([box(1, 1)]), keypoints=np.zeros((2, 18, 3)))
    with pytest.raises(InvalidDetectionsError, match="appearances"):
        Sort(appearance_weight=0.5).update(np.array([box(1, 1)]))
    # Keypoints all missing and unknown histograms (NaN rows): IoU alone decides, as in SORT.
    tracker = Sort(min_hits=0, keypoint_weight=0.5, appearance_weight=0.5)
    for t in range(5):
        out = tracker.update(np.array([box(100 + 3 * t, 100)]), keypoints=np.zeros((1, 18, 3)),
                             appearances=np.full((1, 16), np.nan))
    assert ids_of(out) == [1]


# --- unconfirmed tracks, for offline post-processing ----------------------------------------------

def test_unconfirmed_tracks_are_reported_without_an_id_and_keep_their_serial() -> None:
    tracker = Sort(min_hits=3, report_unconfirmed=True)
    for _ in range(4):  # past the first min_hits frames, when everything is reported
        tracker.update(np.array([box(100, 100)]))
    frames = [tracker.update(np.array([box(100, 100), box(400, 100)])) for _ in range(5)]
    newcomer = [[(o.track_id, o.serial) for o in f if o.detection_index == 1][0] for f in frames]
    assert newcomer == [(None, 2), (None, 2), (None, 2), (2, 2), (2, 2)]
    assert [o.serial for o in frames[0] if o.detection_index == 0] == [1]
    hidden = Sort(min_hits=3)
    for _ in range(4):
        hidden.update(np.array([box(100, 100)]))
    assert [len(hidden.update(np.array([box(100, 100), box(400, 100)]))) for _ in range(5)] == [1, 1, 1, 2, 2]

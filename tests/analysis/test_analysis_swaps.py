"""Left/right limb swaps: a detector's swapped labels are found and undone, legs that really
cross (walking) are left alone, and gaps or missing joints never invent a swap."""
from __future__ import annotations

import numpy as np

from analysis import correct_limb_swaps, exchange, majority, runs
from pose.skeleton import PART_NAMES
from skeleton_poses import P, side_view

LEGS = [P["right_knee"], P["right_ankle"], P["left_knee"], P["left_ankle"]]


def walking(frames: int = 60) -> np.ndarray:
    """Legs swinging in opposition (hip +-25 degrees, 1 stride a second at 30 fps): they pass
    each other twice a stride. Arms hang still."""
    out = []
    for t in np.arange(frames) / 30.0:
        swing = 25.0 * np.sin(2 * np.pi * t)
        out.append(side_view(hip=swing, knee=20.0 + 15.0 * np.cos(2 * np.pi * t), left={"hip": -swing, "knee": 20.0},
                             origin=(300.0 + 4.0 * t * 30, 300.0)))
    return np.stack(out)


def swap_legs(keypoints: np.ndarray, frames) -> np.ndarray:
    out = keypoints.copy()
    right, left = [P["right_knee"], P["right_ankle"]], [P["left_knee"], P["left_ankle"]]
    out[np.ix_(list(frames), right + left)] = keypoints[np.ix_(list(frames), left + right)]
    return out


def test_legs_crossing_while_walking_are_not_a_swap() -> None:
    result = correct_limb_swaps(walking(), PART_NAMES)
    assert not result.swapped["legs"].any() and not result.swapped["arms"].any()
    np.testing.assert_array_equal(result.keypoints, walking())


def test_a_one_frame_swap_is_found_and_undone() -> None:
    clean = walking()
    # frame 8: legs far apart (hip swing near its peak), so a swap is a clear jump
    result = correct_limb_swaps(swap_legs(clean, [8]), PART_NAMES)
    assert np.flatnonzero(result.swapped["legs"]).tolist() == [8]
    np.testing.assert_allclose(result.keypoints[:, LEGS], clean[:, LEGS])
    assert not result.swapped["arms"].any()


def test_a_swap_that_lasts_is_undone_for_as_long_as_it_lasts() -> None:
    clean = walking()
    result = correct_limb_swaps(swap_legs(clean, range(8, 38)), PART_NAMES)
    assert runs(result.swapped["legs"]) == [(8, 38)]
    np.testing.assert_allclose(result.keypoints[:, LEGS], clean[:, LEGS])


def test_frames_far_apart_are_not_compared() -> None:
    clean = walking()
    frames = np.arange(60)
    frames[8:] += 10  # a gap of 10 frames before frame 8
    # Labelled the other way round all along after the gap: nothing to compare it with, and
    # consistent within its stretch, so it stands.
    result = correct_limb_swaps(swap_legs(clean, range(8, 60)), PART_NAMES, frames=frames, max_gap=2)
    assert not result.swapped["legs"].any()
    # The first frame after the gap swapped: judged within its stretch, it is the odd one out.
    result = correct_limb_swaps(swap_legs(clean, [8]), PART_NAMES, frames=frames, max_gap=2)
    assert np.flatnonzero(result.swapped["legs"]).tolist() == [8]


def test_the_detector_is_taken_to_be_right_most_of_the_time() -> None:
    clean = walking()
    # swapped in the first 8 frames only: the crossing back at frame 8 would leave 52 frames
    # "exchanged"; most of the stretch is as detected, so frames 0-7 are the swapped ones
    result = correct_limb_swaps(swap_legs(clean, range(0, 8)), PART_NAMES)
    assert runs(result.swapped["legs"]) == [(0, 8)]
    np.testing.assert_allclose(result.keypoints[:, LEGS], clean[:, LEGS])


def test_missing_joints_alone_do_not_make_a_swap() -> None:
    moving = walking()
    moving[8:12, [P["left_knee"], P["left_ankle"]]] = 0.0  # the far leg unseen for a while
    result = correct_limb_swaps(moving, PART_NAMES)
    assert not result.swapped["legs"].any()
    # ... while a swap in a frame where only one joint per side is seen is still found
    swapped = swap_legs(walking(), [8])
    swapped[8, [P["right_ankle"], P["left_ankle"]]] = 0.0
    assert np.flatnonzero(correct_limb_swaps(swapped, PART_NAMES).swapped["legs"]).tolist() == [8]


def test_exchange_and_runs_helpers() -> None:
    keypoints = walking(4)
    mask = np.array([False, True, True, False])
    out = exchange(keypoints, {"legs": mask}, PART_NAMES)
    np.testing.assert_array_equal(out[1, P["right_knee"]], keypoints[1, P["left_knee"]])
    np.testing.assert_array_equal(out[0], keypoints[0])
    assert runs(np.array([1, 1, 0, 1, 0, 0, 1, 1, 1], bool)) == [(0, 2), (3, 4), (6, 9)]
    # a lone frame is outvoted; a lone gap inside a long swap is outvoted too
    mask = np.array([0, 0, 1, 0, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0], bool)
    assert majority(mask, 5).astype(int).tolist() == [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]


def test_two_labels_on_one_leg_say_nothing() -> None:
    # As OpenPose does when a leg is hidden: frame 8 swapped, then both labels on the left leg
    # for six frames. Those frames cannot say which is which; after them the labels are right.
    labels = swap_legs(walking(), [8])
    hidden = [P["right_knee"], P["right_ankle"]]
    labels[9:15, hidden] = labels[9:15, [P["left_knee"], P["left_ankle"]]]
    swapped = correct_limb_swaps(labels, PART_NAMES, max_gap=2).swapped["legs"]
    assert not swapped[:8].any() and swapped[8] and not swapped[15:].any()


def test_majority_keeps_the_length_of_a_track_shorter_than_its_window() -> None:
    # A person tracked for 6 frames with a 0.25 s window at 30 fps (9 frames): the answer has
    # one value per frame (np.convolve alone would give 9, and the exports failed on it).
    for frames in range(0, 12):
        mask = np.zeros(frames, bool)
        mask[: frames // 2 + 1] = True
        assert majority(mask, 9).shape == (frames,)
    assert majority(np.array([True, True, True, False, False, False]), 9).tolist() == [True] * 3 + [False] * 3

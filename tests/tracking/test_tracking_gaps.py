"""Gap filling within a track: values, flags, the length limit, missing joints, flicker."""
from __future__ import annotations

import numpy as np
import pytest

from tracking import InvalidDetectionsError
from tracking.gaps import fill_gaps, max_gap_frames


def test_a_short_gap_is_filled_linearly_and_flagged() -> None:
    frames = np.array([10, 11, 15, 16])
    boxes = np.array([[0, 0, 10, 20], [2, 0, 12, 20], [10, 4, 20, 28], [12, 4, 22, 28]], dtype=np.float64)
    filled = fill_gaps(frames, boxes, max_gap_frames=3)
    assert filled.frames.tolist() == [10, 11, 12, 13, 14, 15, 16]
    assert filled.interpolated.tolist() == [False, False, True, True, True, False, False]
    np.testing.assert_allclose(filled.boxes[2:5], [[4, 1, 14, 22], [6, 2, 16, 24], [8, 3, 18, 26]])
    np.testing.assert_array_equal(filled.boxes[[0, 1, 5, 6]], boxes)  # observations untouched
    assert filled.keypoints is None and filled.keypoint_interpolated is None


def test_a_gap_longer_than_the_limit_is_left_open() -> None:
    frames = np.array([0, 1, 6, 7])
    boxes = np.tile([0.0, 0.0, 10.0, 10.0], (4, 1))
    filled = fill_gaps(frames, boxes, max_gap_frames=3)  # 4 missing frames > 3
    assert filled.frames.tolist() == [0, 1, 6, 7] and not filled.interpolated.any()
    assert fill_gaps(frames, boxes, max_gap_frames=4).frames.tolist() == list(range(8))
    assert fill_gaps(frames, boxes, max_gap_frames=0).frames.tolist() == [0, 1, 6, 7]


def test_flicker_every_other_frame_becomes_a_whole_track() -> None:
    frames = np.arange(0, 20, 2)
    boxes = np.column_stack([frames * 3.0, np.zeros(10), frames * 3.0 + 40, np.full(10, 100.0)])
    filled = fill_gaps(frames, boxes, max_gap_frames=1)
    assert filled.frames.tolist() == list(range(19))
    assert filled.interpolated.tolist() == [f % 2 == 1 for f in range(19)]
    np.testing.assert_allclose(filled.boxes[:, 0], np.arange(19) * 3.0)


def test_keypoints_are_filled_per_joint_in_missing_frames_and_where_a_joint_was_missed() -> None:
    frames = np.array([0, 1, 2, 4])
    keypoints = np.zeros((4, 2, 3))
    keypoints[:, 0] = [[0, 0, 0.8], [2, 2, 0.6], [4, 4, 0.8], [8, 8, 0.8]]  # joint 0 always seen
    keypoints[[0, 3], 1] = [[10, 10, 0.5], [18, 10, 0.9]]  # joint 1 only at the ends
    filled = fill_gaps(frames, np.tile([0.0, 0, 1, 1], (4, 1)), keypoints, max_gap_frames=3)
    assert filled.frames.tolist() == [0, 1, 2, 3, 4] and filled.interpolated.tolist() == [0, 0, 0, 1, 0]
    np.testing.assert_allclose(filled.keypoints[3, 0], [6, 6, 0.8])
    np.testing.assert_allclose(filled.keypoints[1:4, 1], [[12, 10, 0.6], [14, 10, 0.7], [16, 10, 0.8]])
    assert filled.keypoint_interpolated.tolist() == [[0, 0], [0, 1], [0, 1], [1, 1], [0, 0]]
    np.testing.assert_array_equal(filled.keypoints[[0, 1, 2, 4]][:, 0], keypoints[:, 0])


def test_a_joint_missing_longer_than_the_limit_stays_missing() -> None:
    frames = np.arange(6)
    keypoints = np.zeros((6, 1, 3))
    keypoints[[0, 5], 0] = [[0, 0, 1], [5, 5, 1]]  # missing for 4 frames
    filled = fill_gaps(frames, np.tile([0.0, 0, 1, 1], (6, 1)), keypoints, max_gap_frames=3)
    assert (filled.keypoints[1:5, 0] == 0).all() and not filled.keypoint_interpolated.any()


@pytest.mark.parametrize("seconds, fps, frames", [(0.5, 30.0, 15), (0.5, 10.0, 5), (0.5, 29.97, 14), (0.0, 25, 0)])
def test_max_gap_in_seconds_to_frames(seconds: float, fps: float, frames: int) -> None:
    assert max_gap_frames(seconds, fps) == frames


def test_bad_input_is_rejected() -> None:
    with pytest.raises(InvalidDetectionsError, match="strictly increasing"):
        fill_gaps([1, 1], np.zeros((2, 4)), max_gap_frames=2)
    with pytest.raises(InvalidDetectionsError, match=r"boxes must be \(2, 4\)"):
        fill_gaps([1, 2], np.zeros((3, 4)), max_gap_frames=2)
    with pytest.raises(InvalidDetectionsError, match="keypoints"):
        fill_gaps([1, 2], np.zeros((2, 4)), np.zeros((2, 5)), max_gap_frames=2)
    with pytest.raises(ValueError, match="fps"):
        max_gap_frames(0.5, 0)

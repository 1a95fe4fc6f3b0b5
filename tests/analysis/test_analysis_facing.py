"""Facing on hand-made skeletons: left, right, frontal and back from the evidence of each frame,
held with hysteresis, never spread back over frames that did not decide."""
from __future__ import annotations

import numpy as np

from analysis.facing import BACK, FRONTAL, LEFT, RIGHT, facing_names, facing_states, mirror_signs
from pose.skeleton import PART_NAMES
from skeleton_poses import P, frontal, side_view

F, L, R, B = FRONTAL, LEFT, RIGHT, BACK


def states(*frames: np.ndarray, **options) -> list[int]:
    return facing_states(np.stack(frames), PART_NAMES, **options).tolist()


def turned_away() -> np.ndarray:
    """Seen from behind: the person's right on the image's right, no face."""
    kp = frontal()
    for side in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist", "ear"):
        kp[[P[f"right_{side}"], P[f"left_{side}"]]] = kp[[P[f"left_{side}"], P[f"right_{side}"]]]
    kp[P["nose"]] = 0.0
    return kp


def test_each_state_from_one_clear_frame() -> None:
    assert states(side_view(), side_view(facing=-1), frontal(), turned_away()) == [R, L, F, B]
    assert mirror_signs(np.array([R, L, F, B])).tolist() == [1, -1, 1, 1]  # only left is mirrored
    assert facing_names(np.array([R, L, F, B])) == ["right", "left", "frontal", "back"]


def test_the_face_overrules_labels_a_detector_flipped() -> None:
    # Facing the camera, but every left/right label flipped (detectors do that now and then):
    # the shoulders read "turned away", the nose and both eyes say frontal.
    flipped = turned_away()
    flipped[P["nose"]] = frontal()[P["nose"]]
    flipped[P["right_eye"]] = (292.0, 175.0, 0.9)
    flipped[P["left_eye"]] = (308.0, 175.0, 0.9)
    assert states(flipped) == [F]
    # From behind a detector often still places a nose; one eye or none: back.
    nosed = turned_away()
    nosed[P["nose"]] = (300.0, 170.0, 0.5)
    assert states(nosed) == [B]


def test_arms_overhead_facing_the_camera_is_still_frontal() -> None:
    # Jumping jacks: the shoulders look close together across the image, the hips do not.
    jack = frontal()
    for side, dx in (("right", -6.0), ("left", 6.0)):
        jack[P[f"{side}_shoulder"], 0] = 300.0 + dx
    jack[P["nose"], 0] -= 15.0  # head turned a little to the image's left
    assert states(jack) == [F]


def test_the_first_decision_is_never_spread_back() -> None:
    # Three frames with no evidence (side-on, the face hidden), then clearly facing left: the
    # first three are not mirrored (the product once mirrored a whole jumping-jack set so).
    blind = side_view(facing=-1, missing=("nose", "right_ear", "left_ear", "right_eye", "left_eye"))
    assert states(blind, blind, blind, side_view(facing=-1), side_view(facing=-1)) == [F, F, F, L, L]
    # Undecided frames later keep the state before them.
    assert states(side_view(facing=-1), blind, blind) == [L, L, L]


def test_one_odd_frame_does_not_flip_a_stretch_and_a_real_turn_does() -> None:
    left, right = side_view(facing=-1), side_view()
    assert states(left, left, left, right, left, left, min_run=3) == [L] * 6
    assert states(left, left, left, right, right, right, min_run=3) == [L, L, L, R, R, R]
    # A short first run is not a decision either: frontal until one lasts.
    assert states(right, left, left, left, min_run=3) == [F, L, L, L]
    # Between side-on and frontal widths (a three-quarter view): no decision, the state holds.
    three_quarter = frontal()
    for side, dx in (("right", -12.0), ("left", 12.0)):
        three_quarter[P[f"{side}_shoulder"], 0] = 300.0 + dx
        three_quarter[P[f"{side}_hip"], 0] = 300.0 + dx / 2
    assert states(left, three_quarter, three_quarter) == [L, L, L]


def test_direction_of_travel_decides_when_the_head_cannot() -> None:
    # Side-on, no face seen, walking to the image's left at 2 torso lengths a second.
    frames = [side_view(facing=-1, origin=(600.0 - 200.0 * k / 30, 300.0),
                        missing=("nose", "right_ear", "left_ear", "right_eye", "left_eye")) for k in range(30)]
    walked = states(*frames, fps=30.0)
    assert walked[5:-5] == [L] * 20
    assert set(states(*frames)) == {F}  # without the frame rate, travel is not used


def test_toes_and_heels_decide_where_the_skeleton_has_them() -> None:
    names = (*PART_NAMES, "right_heel", "left_heel", "right_big_toe", "left_big_toe")
    kp = np.zeros((22, 3), np.float32)
    kp[:18] = side_view(missing=("nose", "right_ear", "left_ear", "right_eye", "left_eye"))
    for side in ("right", "left"):
        ankle = kp[P[f"{side}_ankle"], :2]
        kp[names.index(f"{side}_heel")] = (ankle[0] + 8, ankle[1] + 5, 0.9)
        kp[names.index(f"{side}_big_toe")] = (ankle[0] - 25, ankle[1] + 8, 0.9)  # toes to the left
    assert facing_states(kp[None], names).tolist() == [L]

"""Angles on hand-made skeletons with known angles: Sports2D's zero positions and signs, facing
left and right, unwrapping across +-180, missing points, and the names a skeleton allows."""
from __future__ import annotations

import numpy as np
import pytest

from analysis import (
    AngleNameError, available_angles, compute_angles, joint_range, parse_angle_option,
    resolve_angle_names,
    unavailable_angles, unwrap_degrees,
)
from pose.skeleton import PART_NAMES
from skeleton_poses import P, frontal, side_view


def angles_of(*skeletons: np.ndarray, **kwargs) -> dict[str, np.ndarray]:
    series = compute_angles(np.stack(skeletons), PART_NAMES, **kwargs)
    return {name: series.degrees[:, i] for i, name in enumerate(series.names)}


def one(skeleton: np.ndarray) -> dict[str, float]:
    return {name: float(values[0]) for name, values in angles_of(skeleton).items()}


def by_hand(points: dict[str, tuple[float, float]]) -> np.ndarray:
    kp = np.zeros((18, 3), np.float32)
    for name, (x, y) in points.items():
        kp[P[name]] = (x, y, 1.0)
    return kp


# A person standing, facing right (nose ahead of the ears), image pixels (y down).
STANDING = {
    "nose": (112, 60), "right_ear": (100, 64), "left_ear": (100, 64), "neck": (100, 100),
    "right_shoulder": (100, 100), "left_shoulder": (100, 100), "right_elbow": (100, 160), "left_elbow": (100, 160),
    "right_wrist": (100, 210), "left_wrist": (100, 210), "right_hip": (100, 200), "left_hip": (100, 200),
    "right_knee": (100, 290), "left_knee": (100, 290), "right_ankle": (100, 375), "left_ankle": (100, 375),
}


def test_standing_straight_is_every_documented_zero() -> None:
    a = one(by_hand(STANDING))
    for joint in ("knee", "hip", "shoulder", "elbow"):
        assert a[f"right_{joint}"] == pytest.approx(0.0) and a[f"left_{joint}"] == pytest.approx(0.0), joint
    for segment in ("shank", "thigh", "arm", "forearm"):  # pointing down: -90
        assert a[f"right_{segment}"] == pytest.approx(-90.0), segment
    assert a["trunk"] == pytest.approx(90.0) and a["head"] == pytest.approx(90.0)


def test_a_knee_bent_at_a_right_angle_is_90_flexion_either_way_the_person_faces() -> None:
    # Facing right: the shank goes back, i.e. to the left of the knee.
    bent = by_hand({**STANDING, "right_ankle": (15, 290)})
    assert one(bent)["right_knee"] == pytest.approx(90.0)
    assert one(bent)["right_shank"] == pytest.approx(180.0) or one(bent)["right_shank"] == pytest.approx(-180.0)
    # The same pose mirrored (facing left: nose left of the ears, the shank goes right).
    mirrored = {name: (200 - x, y) for name, (x, y) in STANDING.items()}
    mirrored["right_ankle"] = (185, 290)
    assert one(by_hand(mirrored))["right_knee"] == pytest.approx(90.0)
    # Bent the impossible way (shank forward): negative, hyperextension.
    assert one(by_hand({**STANDING, "right_ankle": (185, 290)}))["right_knee"] == pytest.approx(-90.0)


@pytest.mark.parametrize("facing", [1, -1])
@pytest.mark.parametrize("joint, value", [
    ("knee", 60.0), ("knee", -10.0),          # flexion; hyperextension
    ("hip", 45.0), ("hip", -20.0),            # flexion (thigh forward); extension
    ("shoulder", 90.0), ("shoulder", 170.0), ("shoulder", -40.0),   # forward, overhead; behind
    ("elbow", 120.0), ("elbow", 5.0),
])
def test_joint_signs(joint: str, value: float, facing: int) -> None:
    a = one(side_view(**{joint: value}, facing=facing))
    assert a[f"right_{joint}"] == pytest.approx(value, abs=1e-3)
    assert a[f"left_{joint}"] == pytest.approx(value, abs=1e-3)


@pytest.mark.parametrize("facing", [1, -1])
def test_segment_angles_are_anticlockwise_from_the_forward_horizontal(facing: int) -> None:
    # Thigh forward horizontal (hip flexion 90), shank hanging (knee 90), forearm forward
    # (elbow 90 with the arm hanging), head tipped forward 20 degrees.
    a = one(side_view(hip=90.0, knee=90.0, elbow=90.0, head=70.0, facing=facing))
    assert a["right_thigh"] == pytest.approx(0.0, abs=1e-3)
    assert a["right_shank"] == pytest.approx(-90.0, abs=1e-3)
    assert a["right_arm"] == pytest.approx(-90.0, abs=1e-3)
    assert a["right_forearm"] == pytest.approx(0.0, abs=1e-3)
    assert a["head"] == pytest.approx(70.0, abs=1e-3)
    # Arm raised forward and up 45 degrees above the horizontal: +45.
    assert one(side_view(shoulder=135.0, facing=facing))["right_arm"] == pytest.approx(45.0, abs=1e-3)


def test_the_trunk_is_never_mirrored() -> None:
    # Leaning 10 degrees forward: facing right that is towards the image's right (80), facing
    # left towards its left (100): Sports2D measures the trunk on the image as it is.
    assert one(side_view(trunk=80.0))["trunk"] == pytest.approx(80.0, abs=1e-3)
    assert one(side_view(trunk=80.0, facing=-1))["trunk"] == pytest.approx(100.0, abs=1e-3)


def test_pelvis_and_shoulders_are_lines_tilted_within_plus_minus_90() -> None:
    a = one(frontal(pelvis_tilt=10.0, shoulders_tilt=-5.0))
    assert a["pelvis"] == pytest.approx(10.0, abs=1e-3) and a["shoulders"] == pytest.approx(-5.0, abs=1e-3)
    # Seen from behind the line points the other way: the same tilt, not 180 more.
    back = frontal(pelvis_tilt=10.0)
    back[[P["right_hip"], P["left_hip"]]] = back[[P["left_hip"], P["right_hip"]]]
    assert one(back)["pelvis"] == pytest.approx(10.0, abs=1e-3)


def test_a_forearm_swinging_through_180_never_jumps() -> None:
    # The forearm's segment angle sweeps 140 -> 200 degrees (pointing backwards): Sports2D's
    # wrapping would jump from +180 to -180; unwrapped, it moves on smoothly past 180 (its
    # median, 170, is in [-180, 180), so the series stays on that side).
    sweep = np.linspace(140.0, 200.0, 61)
    # arm hanging (-90): forearm = -90 + elbow, so elbow = forearm + 90
    frames = [side_view(elbow=f + 90.0) for f in sweep]
    a = angles_of(*frames)
    np.testing.assert_allclose(a["right_forearm"], sweep, atol=1e-3)
    assert np.abs(np.diff(a["right_forearm"])).max() < 1.5
    # Centred on 180 (median 180 is outside [-180, 180)): the same sweep a turn lower, unbroken.
    centred = angles_of(*[side_view(elbow=f + 100.0) for f in sweep])["right_forearm"]
    np.testing.assert_allclose(centred, sweep + 10.0 - 360.0, atol=1e-3)
    # The elbow flexion itself goes 230 -> 290: a joint angle is never unwrapped, it reads
    # -130 .. -70 frame by frame (within (-180, 180], like every joint angle).
    np.testing.assert_allclose(a["right_elbow"], sweep + 90.0 - 360.0, atol=1e-3)


def test_a_full_windmill_keeps_counting_on_the_segment_and_the_joint_stays_in_range() -> None:
    turns = np.linspace(0.0, 720.0, 241)  # the arm goes round twice
    a = angles_of(*[side_view(shoulder=s) for s in turns])
    arm = a["right_arm"]
    assert np.all(np.diff(arm) > 0) and arm[-1] - arm[0] == pytest.approx(720.0, abs=1e-3)
    shoulder = a["right_shoulder"]
    assert np.all((shoulder > -180) & (shoulder <= 180))
    np.testing.assert_allclose(shoulder, 180.0 - (180.0 - turns) % 360.0, atol=1e-3)


def test_joint_angles_lie_in_their_range_and_one_wrong_point_never_shifts_a_run() -> None:
    # An elbow bent at 110 degrees; in frame 3 the wrist is misplaced behind the arm (the raw
    # angle reads 250 = -110). Unwrapping would carry the rest of the run to -250 (Pose2Sim's
    # demo showed -246.9 where Sports2D's per frame value is 113.1); per frame it reads -110
    # there and 110 again after.
    frames = [side_view(elbow=110.0) for _ in range(8)]
    frames[3] = side_view(elbow=250.0)
    elbow = angles_of(*frames)["right_elbow"]
    np.testing.assert_allclose(elbow, [110, 110, 110, -110, 110, 110, 110, 110], atol=1e-3)
    assert joint_range(np.array([180.0, -180.0, 190.0, -190.0, 540.0])).tolist() == [180, 180, -170, 170, 180]


def test_unwrap_bridges_gaps_and_centres_the_median() -> None:
    values = np.array([160.0, 170.0, 179.0, np.nan, np.nan, -175.0])
    np.testing.assert_allclose(unwrap_degrees(values), [160, 170, 179, np.nan, np.nan, 185])
    # Mostly past -180: the whole series moves by a turn so that its median is in range.
    np.testing.assert_allclose(unwrap_degrees(np.array([-170.0, 175.0, 170.0])), [190, 175, 170])
    np.testing.assert_allclose(unwrap_degrees(np.array([80.0, -85.0]), 180.0), [80, 95])
    assert np.isnan(unwrap_degrees(np.array([np.nan, np.nan]))).all()


def test_missing_points_make_only_the_angles_that_need_them_missing() -> None:
    a = one(side_view(knee=30.0, missing=("right_knee",)))
    for name in ("right_knee", "right_hip", "right_shank", "right_thigh"):
        assert np.isnan(a[name]), name
    assert a["left_knee"] == pytest.approx(30.0, abs=1e-3) and a["right_elbow"] == pytest.approx(0.0, abs=1e-3)
    # One hip missing: no hips' midpoint, so no trunk, hip or shoulder angle.
    a = one(side_view(missing=("left_hip",)))
    for name in ("trunk", "right_hip", "left_hip", "right_shoulder", "left_shoulder", "pelvis"):
        assert np.isnan(a[name]), name
    assert a["right_knee"] == pytest.approx(0.0, abs=1e-3)
    # The head needs an ear: one will do, none will not.
    assert one(side_view(head=80.0, missing=("left_ear",)))["head"] == pytest.approx(80.0, abs=1e-3)
    assert np.isnan(one(side_view(missing=("left_ear", "right_ear")))["head"])


def test_a_missing_frame_in_the_middle_stays_missing() -> None:
    frames = [side_view(knee=k) for k in (10.0, 20.0, 30.0)]
    frames[1] = side_view(knee=20.0, missing=("right_ankle",))
    np.testing.assert_allclose(angles_of(*frames)["right_knee"], [10.0, np.nan, 30.0], atol=1e-3)


def test_openpose_18_gives_twenty_angles_and_says_why_not_ankle_and_wrist() -> None:
    names = available_angles(PART_NAMES)
    assert len(names) == 20 and {"right_knee", "left_elbow", "trunk", "head", "pelvis", "shoulders"} <= set(names)
    missing = unavailable_angles(PART_NAMES)
    assert set(missing) == {f"{s}_{n}" for s in ("right", "left") for n in ("ankle", "foot", "wrist", "hand")}
    assert "heel" in missing["right_ankle"] and "index" in missing["left_wrist"]
    with pytest.raises(AngleNameError, match="right_ankle.*not available.*heel"):
        resolve_angle_names(["right_ankle"], PART_NAMES)
    with pytest.raises(AngleNameError, match="unknown angle 'knees'; known: right_knee"):
        resolve_angle_names(["knees"], PART_NAMES)


def test_the_angles_option_as_typed() -> None:
    assert parse_angle_option("all", PART_NAMES) is None and parse_angle_option(" ", PART_NAMES) is None
    assert parse_angle_option("Right knee, left-knee,right_knee", PART_NAMES) == ("right_knee", "left_knee")
    with pytest.raises(AngleNameError, match="no angle named"):
        parse_angle_option(",,", PART_NAMES)
    only = compute_angles(side_view(knee=40.0)[None], PART_NAMES, names=["left_knee", "trunk"])
    assert only.names == ("left_knee", "trunk") and only.degrees.shape == (1, 2)


def test_bad_shapes_are_refused_with_the_shape() -> None:
    with pytest.raises(ValueError, match=r"shape \(frames, 18, 3\), got \(18, 3\)"):
        compute_angles(side_view(), PART_NAMES)
    with pytest.raises(ValueError, match=r"facing must have shape \(2,\)"):
        compute_angles(np.stack([side_view()] * 2), PART_NAMES, facing=np.ones(3))


def test_a_segment_seen_end_on_gives_no_angle() -> None:
    # The forearm points at the camera in frame 1: 10 px long instead of 50; its direction in
    # the image is noise, so the elbow and forearm angles are left out there, and only there.
    frames = [side_view(elbow=30.0) for _ in range(5)]
    frames[1] = frames[1].copy()
    elbow, wrist = frames[1][P["right_elbow"], :2], frames[1][P["right_wrist"], :2]
    frames[1][P["right_wrist"], :2] = elbow + (wrist - elbow) * 0.2
    a = angles_of(*frames)
    assert np.isnan(a["right_elbow"][1]) and np.isnan(a["right_forearm"][1])
    assert np.isfinite(a["right_elbow"][[0, 2, 3, 4]]).all() and np.isfinite(a["left_elbow"]).all()
    kept = angles_of(*frames, foreshortened=0.0)["right_elbow"]
    assert np.isfinite(kept).all()


def test_noise_jumps_never_add_up_to_whole_turns() -> None:
    # Steps of about 150 degrees are not motion (a foreshortened or mislabelled limb): each
    # cuts the unwrapping, so the series never drifts by turns, whichever way np.unwrap goes.
    noisy = np.array([20.0, 25.0, 175.0, -30.0, 120.0, -90.0, 60.0, 65.0, 70.0])
    out = unwrap_degrees(noisy, max_step_deg=90.0)
    assert np.all((out >= -180) & (out < 180))
    np.testing.assert_allclose(out, noisy)
    drifting = unwrap_degrees(noisy)  # shortest way round every time: the last values are a turn off
    assert drifting[-1] - noisy[-1] in (360.0, -360.0)
    # a real, smooth turn is still followed through 180
    turning = np.linspace(140.0, 200.0, 13)
    wrapped = (turning + 180) % 360 - 180
    np.testing.assert_allclose(unwrap_degrees(wrapped, max_step_deg=90.0), turning)

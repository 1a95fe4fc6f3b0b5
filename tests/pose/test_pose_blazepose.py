"""BlazePose through MediaPipe: the real full model on real frames of a real clip."""
from __future__ import annotations

import av
import numpy as np
import pytest

from analysis.world import coefficient_of_variation, segment_lengths
from pose import BLAZEPOSE_33, InvalidImageError
from pose.errors import BackendUnavailableError
from pose.models import MODEL_SKELETONS, load_estimator, skeleton_of

CLIP = "pose2sim_trial1_cam01.mp4"  # 1080x1920 portrait, 60 fps, 100 frames, one person


@pytest.fixture(scope="module")
def clip_frames(videos_dir) -> list[tuple[np.ndarray, int]]:
    """Every frame of the clip as (BGR image, timestamp in ms)."""
    with av.open(str(videos_dir / CLIP)) as container:
        return [(f.to_ndarray(format="bgr24"), round(float(f.time) * 1000)) for f in container.decode(video=0)]


@pytest.fixture(scope="module")
def tracked(blazepose_estimator_factory, clip_frames):
    """The clip through one estimator in video mode: a list (one entry per frame) of people."""
    estimator = blazepose_estimator_factory()
    people = [estimator.estimate(image, timestamp_ms=t) for image, t in clip_frames]
    estimator.close()
    return people


def test_one_person_with_33_landmarks_and_world_metres_per_frame(tracked, clip_frames) -> None:
    height, width = clip_frames[0][0].shape[:2]
    found = [p for p in tracked if p]
    assert len(found) >= 0.9 * len(tracked)  # the subject is seen in >= 90% of frames
    assert all(len(p) == 1 for p in found)
    person = found[0][0]
    assert person.keypoints.shape == (33, 3) and person.world.shape == (33, 3)
    assert person.keypoints.dtype == np.float32 and person.world.dtype == np.float32
    assert (person.keypoints[:, 2] > 0).all() and (person.keypoints[:, 2] <= 1).all()
    # Hips and shoulders are in the picture; the world origin is between the hips.
    names = BLAZEPOSE_33.part_names
    for part in ("left_hip", "right_hip", "left_shoulder", "right_shoulder"):
        x, y, _ = person.keypoints[names.index(part)]
        assert 0 <= x < width and 0 <= y < height, part
    hips = person.world[[names.index("left_hip"), names.index("right_hip")]].mean(axis=0)
    assert np.abs(hips).max() < 0.05
    assert 0.7 < np.ptp(person.world[:, 1]) < 2.2  # head to feet, metres


def test_world_bone_lengths_are_steady_over_the_clip(tracked) -> None:
    """Thigh and upper arm lengths in metres vary by less than 15% (coefficient of variation)."""
    world = np.stack([p[0].world if p else np.full((33, 3), np.nan, np.float32) for p in tracked])
    lengths = segment_lengths(world, BLAZEPOSE_33.part_names)
    for name, values in lengths.items():
        cv = coefficient_of_variation(values)
        assert cv < 0.15, f"{name}: coefficient of variation {cv:.3f}, median {np.nanmedian(values):.3f} m"
        assert 0.15 < np.nanmedian(values) < 0.6, name


def test_a_timestamp_that_goes_back_starts_a_new_run_and_none_analyses_a_lone_image(
        blazepose_estimator_factory, clip_frames) -> None:
    estimator = blazepose_estimator_factory()
    image, _ = clip_frames[50]
    first = estimator.estimate(image, timestamp_ms=1000)
    again = estimator.estimate(image, timestamp_ms=0)  # back in time: another video
    alone = estimator.estimate(image)  # static image mode
    assert len(first) == len(again) == len(alone) == 1
    np.testing.assert_allclose(first[0].keypoints[:, :2], alone[0].keypoints[:, :2], atol=25)
    assert estimator.estimate(np.zeros((64, 64, 3), np.uint8)) == []  # nobody there
    with pytest.raises(InvalidImageError):
        estimator.estimate(np.zeros((0, 10, 3), np.uint8))
    estimator.close()


def test_bad_requests_get_clear_errors(blazepose_estimator_factory) -> None:
    with pytest.raises(BackendUnavailableError, match="unknown model 'alphapose'"):
        load_estimator("alphapose")
    with pytest.raises(ValueError, match="model_path must be None"):
        load_estimator("blazepose", model_path="pose_landmark_full.tflite")
    with pytest.raises(TypeError, match="needs model_path"):
        load_estimator("openpose")
    from pose.blazepose import BlazePoseEstimator

    with pytest.raises(ValueError, match="model_complexity must be 0, 1 or 2"):
        BlazePoseEstimator(model_complexity=3)
    with pytest.raises(ValueError, match="min_detection_confidence"):
        BlazePoseEstimator(min_detection_confidence=1.5)
    assert skeleton_of("blazepose") is BLAZEPOSE_33
    assert {"openpose", "blazepose-lite", "blazepose", "blazepose-heavy"} <= set(MODEL_SKELETONS)


def test_openpose_and_blazepose_share_the_estimator_interface(blazepose_estimator_factory, model_path,
                                                              clip_frames) -> None:
    image, t = clip_frames[10]
    for estimator in (load_estimator("openpose", model_path=model_path), blazepose_estimator_factory()):
        people = estimator.estimate(image, timestamp_ms=t)
        assert people and all(p.keypoints.shape == (estimator.skeleton.num_parts, 3) for p in people)
        assert (people[0].world is not None) == estimator.skeleton.has_world
        prepared = estimator.preprocess(image, timestamp_ms=t + 17)
        staged = estimator.postprocess(estimator.infer(prepared), prepared)
        assert len(staged) >= 1 and estimator.parallel_requests >= 1


def test_the_heavy_model_finds_the_subject_with_steady_bones(blazepose_estimator_factory, clip_frames) -> None:
    """blazepose-heavy (make setup installs it) on every 4th frame of the clip, in video mode: the
    subject in >= 90% of frames, thigh and upper-arm lengths varying by less than 15%."""
    estimator = load_estimator("blazepose-heavy")
    assert estimator.model_complexity == 2 and "pose_landmark_heavy.tflite" in estimator.name
    people = [estimator.estimate(image, timestamp_ms=t) for image, t in clip_frames[::4]]
    estimator.close()
    assert sum(bool(p) for p in people) >= 0.9 * len(people)
    world = np.stack([p[0].world if p else np.full((33, 3), np.nan, np.float32) for p in people])
    for name, values in segment_lengths(world, BLAZEPOSE_33.part_names).items():
        assert coefficient_of_variation(values) < 0.15, name

"""net_height "auto" on real videos with the real model: small people get a larger network
input, large ones keep 368, and the choice is in the exports, the result and within the limits."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from config import ResourceLimits
from pose import PoseEstimator, load_backend
from pose.input_size import BASE_NET_HEIGHT, MAX_AUTO_NET_HEIGHT, MAX_PRECISE_NET_HEIGHT, PRECISION
from videoio import probe
from pipeline import autosize
from pipeline.autosize import SAMPLE_FRAMES, SEQUENTIAL_FRAMES, choose_net_height, sample_count
from pipeline.video import PipelineOptions, process_video

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def backend(model_path: Path):
    return load_backend("openvino", model_path)


def choose(video: Path, backend, goal=autosize.DETECTION, **options):
    sampler = PoseEstimator(backend, net_height=BASE_NET_HEIGHT)
    return choose_net_height(video, probe(video), PipelineOptions(**options), sampler, goal)


def test_short_ranges_sample_fewer_frames() -> None:
    assert [sample_count(n) for n in (1, 100, 250, 600, 100_000)] == [4, 4, 5, 12, 12]


@pytest.mark.parametrize("sequential_frames", [SEQUENTIAL_FRAMES, 0], ids=["decoded-once", "sought"])
def test_small_walkers_far_away_get_a_larger_input(videos_dir: Path, backend, monkeypatch,
                                                   sequential_frames: int) -> None:
    # PETS09-S2L1: people about 77 of 576 px tall, 49 px at 368. Its 795 frames are decoded
    # once; with the threshold at 0 the same samples are sought one by one, as in a long video.
    monkeypatch.setattr(autosize, "SEQUENTIAL_FRAMES", sequential_frames)
    choice = choose(videos_dir / "vtest.avi", backend)
    assert choice.sampled_frames == SAMPLE_FRAMES and choice.people >= SAMPLE_FRAMES
    assert 40 < choice.median_person_px < 64
    assert BASE_NET_HEIGHT < choice.net_height <= MAX_AUTO_NET_HEIGHT and choice.net_height % 16 == 0


def test_people_filling_the_frame_keep_368(videos_dir: Path, backend) -> None:
    # Pose2Sim's walkway, portrait 1080x1920: the median person is 124 px at 368, twice 64.
    choice = choose(videos_dir / "pose2sim_trial1_cam01.mp4", backend)
    assert choice.sampled_frames == 4  # 100 frames
    assert choice.people >= 1 and choice.median_person_px >= 64
    assert choice.net_height == BASE_NET_HEIGHT


def test_views_to_triangulate_get_the_person_20_cells_tall(videos_dir: Path, backend) -> None:
    # The same walkway for 3D (pipeline.multiview): the median person, 124 px at 368 (15 cells),
    # is made at least 160 px (20 cells) tall: 368 * 160 / 123.8 = 476 -> 480.
    choice = choose(videos_dir / "pose2sim_trial1_cam01.mp4", backend, goal=PRECISION)
    assert BASE_NET_HEIGHT < choice.net_height < MAX_PRECISE_NET_HEIGHT and choice.net_height % 16 == 0
    assert choice.median_person_px * choice.net_height / BASE_NET_HEIGHT >= PRECISION.min_person_px
    assert choice.median_person_px * (choice.net_height - 16) / BASE_NET_HEIGHT < PRECISION.min_person_px


def test_over_a_limit_the_precision_goal_takes_the_largest_height_that_fits(videos_dir: Path, backend,
                                                                            tmp_path: Path) -> None:
    video = videos_dir / "pose2sim_trial1_cam01.mp4"
    options = PipelineOptions(end_s=0.1, keypoints_only=True)
    # "auto" wants 480 here (above: 272x480); a limit that 464 (256 wide) fits and 480 does
    # not gives 464, the largest height that fits, not the base.
    limits = ResourceLimits(max_network_pixels=256 * 464)
    result = process_video(video, tmp_path / "limited", options, backend=backend, limits=limits,
                           size_goal=PRECISION)
    assert result.network_input["height"] == 464 and result.network_input["auto"]["net_height"] == 464


def test_the_choice_is_recorded_and_a_limit_keeps_the_base(videos_dir: Path, backend, tmp_path: Path) -> None:
    video = videos_dir / "vtest.avi"
    options = PipelineOptions(end_s=0.5, screenshot_interval_s=0, keypoints_only=True)
    result = process_video(video, tmp_path / "auto", options, backend=backend)
    chosen = result.network_input
    assert chosen["height"] > BASE_NET_HEIGHT and chosen["auto"]["net_height"] == chosen["height"]
    header = json.loads((tmp_path / "auto" / "keypoints.json").read_text())
    assert header["options"]["net_height"] == "auto" and header["model"]["input"] == chosen

    # A network-size limit that the base height fits and the chosen one does not: the base.
    base_pixels = 496 * BASE_NET_HEIGHT  # 768x576 at 368: 496 wide
    limited = process_video(video, tmp_path / "limited", options, backend=backend,
                            limits=ResourceLimits(max_network_pixels=base_pixels))
    assert limited.network_input["height"] == BASE_NET_HEIGHT
    assert limited.network_input["auto"]["net_height"] == BASE_NET_HEIGHT

    fixed = process_video(video, tmp_path / "fixed", PipelineOptions(end_s=0.5, net_height=256,
                          keypoints_only=True), backend=backend)
    assert fixed.network_input == {"width": 336, "height": 256}

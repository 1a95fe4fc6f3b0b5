"""Multi-person assembly on hand-made network outputs (heatmaps + PAFs), exact and fast."""
from __future__ import annotations

import numpy as np
import pytest

from pose.assembly import NUM_CHANNELS, AssemblyParams, NetworkOutputParser, parse_network_output
from pose.paf import Connections, match_greedy, score_pairs
from pose.skeleton import LIMB_PAF_CHANNELS, LIMBS, NUM_PARTS

GRID_H, GRID_W = 30, 44  # output cells; the network input would be 352x240
TOLERANCE_PX = 1.0  # network-input pixels; one output cell is 8 px, one upsampled pixel 2 px

# A standing person, part positions in output cells relative to the nose.
TEMPLATE = np.array([
    (0, 0), (0, 3), (-3, 3), (-4, 7), (-4, 11), (3, 3), (4, 7), (4, 11),
    (-2, 12), (-2, 17), (-2, 22), (2, 12), (2, 17), (2, 22),
    (-1, -1), (1, -1), (-2, 0), (2, 0),
], dtype=np.float64)


def render(people: list[dict[int, tuple[float, float]]], *, height: int = GRID_H,
           width: int = GRID_W, sigma: float = 1.0, paf_radius: float = 1.0) -> np.ndarray:
    """Network output float32 (height, width, 57) for people given as {part: (x_cell, y_cell)}.

    Heatmaps are Gaussians of peak 1; each limb whose two parts exist gets a unit-vector PAF
    within ``paf_radius`` cells of its segment, averaged where limbs of the same type overlap.
    """
    raw = np.zeros((height, width, NUM_CHANNELS), np.float32)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    for person in people:
        for part, (x, y) in person.items():
            blob = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma**2))
            raw[:, :, part] = np.maximum(raw[:, :, part], blob)
    for limb, (part_a, part_b) in enumerate(LIMBS):
        total = np.zeros((height, width, 2))
        count = np.zeros((height, width))
        for person in people:
            if part_a not in person or part_b not in person:
                continue
            a, b = np.array(person[part_a]), np.array(person[part_b])
            length = np.linalg.norm(b - a)
            unit = (b - a) / length
            along = (xx - a[0]) * unit[0] + (yy - a[1]) * unit[1]
            across = np.abs((xx - a[0]) * unit[1] - (yy - a[1]) * unit[0])
            on = (along >= 0) & (along <= length) & (across <= paf_radius)
            total[on] += unit
            count[on] += 1
        mean = total / np.maximum(count, 1)[..., None]
        cx, cy = LIMB_PAF_CHANNELS[limb]
        raw[:, :, NUM_PARTS + 1 + cx] = mean[..., 0]
        raw[:, :, NUM_PARTS + 1 + cy] = mean[..., 1]
    raw[:, :, NUM_PARTS] = 1.0 - raw[:, :, :NUM_PARTS].max(axis=2)  # background channel
    return raw


def person_at(nose_x: float, nose_y: float, parts: range | list[int] = range(NUM_PARTS)) -> dict[int, tuple[float, float]]:
    return {p: (nose_x + TEMPLATE[p, 0], nose_y + TEMPLATE[p, 1]) for p in parts}


def to_input_px(cells: dict[int, tuple[float, float]]) -> dict[int, np.ndarray]:
    """Output-cell centres -> network-input pixels (pixel-centre convention, stride 8)."""
    return {p: (np.array(xy) + 0.5) * 8 - 0.5 for p, xy in cells.items()}


def assert_matches(keypoints: np.ndarray, truth_cells: dict[int, tuple[float, float]]) -> None:
    truth = to_input_px(truth_cells)
    for part in range(NUM_PARTS):
        if part in truth:
            assert keypoints[part, 2] > 0.5, f"part {part} missing"
            error = np.abs(keypoints[part, :2] - truth[part]).max()
            assert error <= TOLERANCE_PX, f"part {part} at {keypoints[part, :2]}, expected {truth[part]}"
        else:
            assert keypoints[part].tolist() == [0.0, 0.0, 0.0], f"part {part} should be missing"


def find_person(people: list[tuple[np.ndarray, float]], nose_x_cells: float) -> np.ndarray:
    expected = (nose_x_cells + 0.5) * 8 - 0.5
    found = [kp for kp, _ in people if kp[0, 2] > 0 and abs(kp[0, 0] - expected) < 4]
    assert len(found) == 1, f"expected one person with the nose near x={expected}"
    return found[0]


def test_two_people_side_by_side_are_found_whole_and_in_place() -> None:
    left, right = person_at(10.0, 4.0), person_at(31.0, 5.0)
    people = parse_network_output(render([left, right]))
    assert len(people) == 2
    assert_matches(find_person(people, 10.0), left)
    assert_matches(find_person(people, 31.0), right)
    for keypoints, score in people:
        assert keypoints.dtype == np.float32 and keypoints.shape == (18, 3)
        assert score > 0
    assert people[0][1] >= people[1][1]


def test_sub_cell_positions_come_back_with_sub_pixel_accuracy() -> None:
    person = person_at(15.3, 4.6)
    people = parse_network_output(render([person]))
    assert len(people) == 1
    assert_matches(people[0][0], person)


def test_crossing_forearms_are_paired_by_the_paf_not_by_distance() -> None:
    # Right forearms cross in an X; pairing each elbow with the nearer wrist would be wrong.
    a = {1: (8.0, 4.0), 2: (8.0, 7.0), 3: (12.0, 10.0), 4: (20.0, 18.0)}
    b = {1: (24.0, 4.0), 2: (24.0, 7.0), 3: (20.0, 10.0), 4: (12.0, 18.0)}
    people = parse_network_output(render([a, b]))
    assert len(people) == 2
    by_neck = sorted(people, key=lambda item: item[0][1, 0])
    assert_matches(by_neck[0][0], a)
    assert_matches(by_neck[1][0], b)


def test_partial_person_has_missing_parts_marked_zero() -> None:
    upper_body = [p for p in range(NUM_PARTS) if p not in (8, 9, 10, 11, 12, 13)]
    person = person_at(20.0, 6.0, upper_body)
    people = parse_network_output(render([person]))
    assert len(people) == 1
    assert_matches(people[0][0], person)


def test_people_with_too_few_parts_are_dropped() -> None:
    fragment = person_at(20.0, 6.0, [1, 2, 3])  # three parts < min_parts=4
    assert parse_network_output(render([fragment])) == []
    kept = parse_network_output(render([fragment]), params=AssemblyParams(min_parts=3))
    assert len(kept) == 1 and int((kept[0][0][:, 2] > 0).sum()) == 3


def test_empty_and_weak_maps_give_no_people() -> None:
    assert parse_network_output(np.zeros((GRID_H, GRID_W, NUM_CHANNELS), np.float32)) == []
    weak = np.random.default_rng(0).uniform(0, 0.04, (GRID_H, GRID_W, NUM_CHANNELS)).astype(np.float32)
    assert parse_network_output(weak) == []


@pytest.mark.parametrize("upsample", [1, 4, 8])
def test_upsample_factors_agree_on_positions(upsample: int) -> None:
    person = person_at(12.0, 4.0)
    people = parse_network_output(render([person]), upsample=upsample)
    assert len(people) == 1
    # upsample 1 has no sub-cell grid to refine on beyond the parabola fit: allow a little more.
    truth = to_input_px(person)
    error = max(np.abs(people[0][0][p, :2] - truth[p]).max() for p in truth)
    assert error <= (2.0 if upsample == 1 else TOLERANCE_PX)


def test_result_is_deterministic() -> None:
    rng = np.random.default_rng(7)
    raw = render([person_at(10.0, 4.0), person_at(31.0, 5.0)])
    raw += rng.uniform(0, 0.08, raw.shape).astype(np.float32)  # many weak extra peaks
    first = parse_network_output(raw)
    second = parse_network_output(raw.copy())
    assert len(first) == len(second) > 0
    for (kp1, s1), (kp2, s2) in zip(first, second):
        assert s1 == s2 and np.array_equal(kp1, kp2)


def test_wrong_output_shape_is_rejected() -> None:
    with pytest.raises(ValueError, match="57"):
        parse_network_output(np.zeros((10, 10, 19), np.float32))


def test_score_pairs_rewards_aligned_fields_and_applies_distance_prior() -> None:
    paf = np.zeros((20, 40, 2), np.float32)
    paf[:, :, 0] = 1.0  # every vector points +x
    channels = np.array([[0, 1]] * 4)
    ax, ay = np.array([2.0, 2.0, 2.0, 2.0]), np.array([5.0, 5.0, 5.0, 5.0])
    bx = np.array([8.0, 2.0, -4.0, 32.0])  # right, straight down, left, far right
    by = np.array([5.0, 15.0, 5.0, 5.0])
    score, valid = score_pairs(paf, channels, ax, ay, bx, by)
    assert score[0] == pytest.approx(1.0)
    assert score[1] == pytest.approx(0.0, abs=1e-6) and not valid[1]
    assert score[2] == pytest.approx(-1.0) and not valid[2]
    # length 30 > 0.5 * height 20: prior 0.5 * 20 / 30 - 1 = -2/3.
    assert score[3] == pytest.approx(1.0 - 2.0 / 3.0, abs=1e-5) and valid[3]
    assert valid[0]


def test_match_greedy_is_one_to_one_per_limb_by_descending_score() -> None:
    candidates = Connections(
        limb=np.array([0, 0, 0, 0, 1]), a=np.array([0, 0, 1, 1, 0]), b=np.array([2, 3, 2, 3, 2]),
        score=np.array([0.9, 0.8, 0.85, 0.1, 0.5], np.float32),
    )
    kept = match_greedy(candidates, np.ones(5, bool))
    pairs = list(zip(kept.limb.tolist(), kept.a.tolist(), kept.b.tolist()))
    # limb 0: (0,2) first; (1,2) loses b=2; (0,3) loses a=0; (1,3) remains. Limb 1 is separate.
    assert pairs == [(0, 0, 2), (0, 1, 3), (1, 0, 2)]


def test_reusable_parser_matches_the_function_across_shapes_and_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    parser = NetworkOutputParser(upsample=4)
    small = render([person_at(12.0, 4.0)])
    large = render([person_at(10.0, 4.0), person_at(31.0, 9.0)], height=36, width=48)
    inputs = [small, large, small, large]
    expected = [parse_network_output(raw, upsample=4) for raw in inputs]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(parser, inputs * 2))
    for got, want in zip(results, expected * 2):
        assert len(got) == len(want) > 0
        for (kp1, s1), (kp2, s2) in zip(got, want):
            assert s1 == s2 and np.array_equal(kp1, kp2)

"""Repetitions on film-like curves with known answers: squats seen side-on with a pause at the
bottom and a walk away at the end, partial reps, rests at either extreme, gaps, spikes."""
from __future__ import annotations

import numpy as np
import pytest

from analysis.reps import choose_angle, count_reps, partial_reps

FPS = 30.0


def ramp(a: float, b: float, seconds: float) -> np.ndarray:
    """a -> b over ``seconds``, eased (a person does not move at constant speed)."""
    n = int(round(seconds * FPS))
    return a + (b - a) * (1 - np.cos(np.linspace(0, np.pi, n, endpoint=False))) / 2


def hold(value: float, seconds: float) -> np.ndarray:
    return np.full(int(round(seconds * FPS)), value)


def squat(depth: float = 100.0, pause_s: float = 0.8) -> list[np.ndarray]:
    return [ramp(0, depth, 1.0), hold(depth, pause_s), ramp(depth, 0, 0.8), hold(0, 0.5)]


def walk(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * FPS)) / FPS
    return 30 + 28 * np.sin(2 * np.pi * 1.0 * t)  # knee 2 - 58 degrees, a stride a second


def film(*parts: np.ndarray, noise: float = 2.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    curve = np.concatenate(parts)
    curve = curve + np.random.default_rng(seed).normal(0, noise, len(curve))
    return curve, np.arange(len(curve)) / FPS


def test_squats_side_on_with_a_pause_at_the_bottom_and_a_walk_away() -> None:
    knee, t = film(hold(0, 1.0), *sum((squat() for _ in range(5)), []), walk(3.0), np.full(20, np.nan))
    reps = count_reps(knee, t)
    assert len(reps) == 5
    for k, rep in enumerate(reps):
        start = 1.0 + k * 3.1
        assert rep.number == k + 1
        assert rep.start_s == pytest.approx(start, abs=0.25) and rep.end_s == pytest.approx(start + 2.6, abs=0.25)
        assert rep.min_degrees == pytest.approx(0, abs=8) and rep.max_degrees == pytest.approx(100, abs=8)
        assert rep.hold_s == pytest.approx(0.8, abs=0.35)  # the pause at the bottom is inside the rep
        assert rep.out_s + rep.hold_s + rep.back_s == pytest.approx(rep.duration_s, abs=1e-9)
        assert rep.tempo.count("-") == 2
    assert all(a.end <= b.start for a, b in zip(reps, reps[1:]))


def test_partial_reps_are_not_counted_but_said() -> None:
    parts = [hold(0, 1.0), *squat(), *squat(depth=55.0), *squat(), *squat(depth=50.0), *squat()]
    knee, t = film(*parts)
    assert len(count_reps(knee, t)) == 3
    assert partial_reps(knee, t) == 2


def test_a_rest_at_the_high_end_and_a_rep_under_way_at_the_end() -> None:
    # An elbow resting straight reads 0 in Sports2D's convention; here a curve resting high
    # (a shoulder held overhead, lowered and raised again): the reps go down and back.
    parts = [hold(170, 0.5)] + [np.concatenate([ramp(170, 60, 0.7), ramp(60, 170, 0.7), hold(170, 0.3)])] * 4
    parts.append(ramp(170, 60, 0.7))  # the video ends at the bottom: not a rep
    curve, t = film(*parts)
    reps = count_reps(curve, t)
    assert len(reps) == 4
    assert all(r.max_degrees > 160 and r.min_degrees < 70 for r in reps)


def test_gaps_short_are_bridged_long_ones_end_a_rep() -> None:
    knee, t = film(hold(0, 1.0), *squat(), *squat(), *squat())
    short = knee.copy()
    short[45:54] = np.nan  # 0.3 s missing on the way down of rep 1
    assert len(count_reps(short, t)) == 3
    long = knee.copy()
    long[45:110] = np.nan  # 2.2 s missing: rep 1 cannot be told
    assert len(count_reps(long, t)) == 2


def test_spikes_and_a_small_range_give_no_reps() -> None:
    still, t = film(hold(10, 4.0))
    still[[30, 31, 80]] = [170.0, 165.0, -150.0]  # wrong points in a few frames
    assert count_reps(still, t) == []
    wobble, t = film(10 + 15 * np.sin(np.arange(120) / 5))  # 30 degrees peak to peak: too little
    assert count_reps(wobble, t) == []
    knee, t = film(hold(0, 1.0), *squat(), *squat())
    knee[50] = -170.0  # a joint angle read past 180 in one frame
    assert len(count_reps(knee, t)) == 2


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="1-D and alike"):
        count_reps(np.zeros(5), np.zeros(4))


def test_the_automatic_angle_is_the_largest_periodic_range() -> None:
    knee, t = film(hold(0, 1.0), *squat(), *squat(), *squat())
    hip, _ = film(hold(0, 1.0), *squat(depth=70.0), *squat(depth=70.0), *squat(depth=70.0), seed=1)
    one_big, _ = film(hold(0, 1.0), *squat(depth=150.0), hold(0, 6.2), seed=2)
    by_angle = {name: count_reps(values, t) for name, values in
                (("right_knee", knee), ("right_hip", hip), ("right_elbow", one_big))}
    assert [len(v) for v in by_angle.values()] == [3, 3, 1]
    assert choose_angle(by_angle) == "right_knee"
    assert choose_angle({"right_elbow": by_angle["right_elbow"]}) is None

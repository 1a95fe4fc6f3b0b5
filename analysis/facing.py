"""Which way a person faces, per stretch of time: left, right, frontal (towards the camera) or
back (away from it). Angles are mirrored for a person facing left, and only then.

Evidence, frame by frame (pixels scaled by the person's torso length, so it holds at any size):

- **Width across the image, signed**: ``(left shoulder x - right shoulder x) / torso`` (the hips
  likewise, scaled by :data:`HIP_WIDTH_SCALE` so both read alike; the wider of the two counts). A
  person facing the camera has their right on the image's left: the width is positive and about
  0.7 for the shoulders; turned away it is negative; seen side-on it is near 0. Above
  ``frontal_width``: frontal; below ``-frontal_width``: back; within ``side_on``: side-on;
  between the two: no decision (the state before holds: hysteresis on the width). The face
  overrules the sign: the nose and both eyes seen is frontal (a detector now and then flips
  every label of a person facing it), neither nose nor eye seen is back (from behind, detectors
  still place a nose often, but rarely both eyes).
- **Side-on, which way**: votes, each +1 (right) or -1 (left) times its weight: the nose ahead of
  the ears' midpoint (else the eyes', else the neck) by ``nose_margin`` torso lengths (weight 1);
  the toes ahead of the heels (:data:`FEET_MARGIN`, weight 1, skeletons that have feet, as Sports2D
  decides); the direction of travel of the hips' midpoint, faster than ``travel_speed`` torso
  lengths a second (weight 0.5: people walk forwards, mostly). The sign of the sum decides; a tie
  or no vote: no decision.

Over time: a frame without a decision keeps the state before it. A new state replaces the one
before only when ``min_run`` decided frames running say so, and then from the first of them;
shorter runs are strays. Frames before the first accepted state are **frontal** (not mirrored,
as Sports2D without feet): an early decision is never spread back over frames that did not make
it. Frontal and back are never mirrored; the joint angles that need a side view (knee, hip,
shoulder, elbow flexion, and the limb segments) mean little there
(:data:`SIDE_VIEW_ANGLES` in :mod:`analysis.angles` flags them).

Input keypoints: float ``(F, K, 3)``, x, y pixels and a confidence (<= 0: missing), parts named by
``part_names``; ``fps`` for the direction of travel (None: not used).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from analysis.points import HEAD, MID_HIP, points_xy, torso_length

#: Facing states (int8 codes) and their names in the exports.
RIGHT, LEFT, FRONTAL, BACK = 1, -1, 0, 2
FACING_NAMES: dict[int, str] = {RIGHT: "right", LEFT: "left", FRONTAL: "frontal", BACK: "back"}
FACING_CODES: dict[str, int] = {name: code for code, name in FACING_NAMES.items()}
#: Signed width across the image (torso lengths) above which a person faces the camera (below
#: minus it: turned away). Facing the camera the shoulders are about 0.7 torso lengths apart.
FRONTAL_WIDTH = 0.4
#: Within this signed width of 0 a person is seen side-on.
SIDE_ON = 0.25
#: Hip joints are narrower than shoulders (about 0.45 against 0.7 torso lengths): hip widths are
#: scaled by this to compare.
HIP_WIDTH_SCALE = 1.5
#: The nose must be this many torso lengths ahead of the ears to say which way a person faces.
NOSE_MARGIN = 0.05
#: The toes must be this many torso lengths ahead of the heels.
FEET_MARGIN = 0.1
#: Moving faster than this (torso lengths a second) across the image says which way they go.
TRAVEL_SPEED = 0.6
#: The direction of travel is measured over this many seconds around a frame.
TRAVEL_WINDOW_S = 0.3


def mirror_signs(states: np.ndarray) -> np.ndarray:
    """int8 ``(F,)``: -1 where ``states`` is :data:`LEFT` (mirrored), +1 elsewhere."""
    return np.where(np.asarray(states) == LEFT, -1, 1).astype(np.int8)


def facing_names(states: np.ndarray) -> list[str]:
    """The states as the exports name them (``left``, ``right``, ``frontal``, ``back``)."""
    return [FACING_NAMES[int(s)] for s in np.asarray(states)]


def signed_width(points: dict[str, np.ndarray], torso: float) -> np.ndarray:
    """float ``(F,)``: left minus right x of the shoulders (or the scaled hips, whichever is wider
    across), in torso lengths; NaN where neither pair is seen."""
    widths = []
    for right, left, scale in (("right_shoulder", "left_shoulder", 1.0), ("right_hip", "left_hip", HIP_WIDTH_SCALE)):
        if right in points and left in points:
            widths.append((points[left][:, 0] - points[right][:, 0]) * scale / torso)
    if not widths:
        return np.full(len(next(iter(points.values()))), np.nan)
    stacked = np.stack(widths)
    magnitude = np.where(np.isfinite(stacked), np.abs(stacked), -1.0)
    best = np.take_along_axis(stacked, magnitude.argmax(axis=0)[None], axis=0)[0]
    return best


def side_votes(points: dict[str, np.ndarray], torso: float, *, fps: float | None, nose_margin: float,
               travel_speed: float) -> np.ndarray:
    """float ``(F,)``: the weighted sum of the side-on votes (+ right, - left; see the module)."""
    frames = len(next(iter(points.values())))
    nan = np.full((frames, 2), np.nan)
    votes = np.zeros(frames)
    with np.errstate(invalid="ignore"):
        if "nose" in points:
            back = points.get(HEAD, nan)
            if "right_eye" in points and "left_eye" in points:
                eyes = np.stack([points["right_eye"], points["left_eye"]])
                seen = np.isfinite(eyes).all(axis=0)  # both eyes: one alone may be the near one
                back = np.where(np.isfinite(back), back, np.where(seen, eyes.mean(axis=0), np.nan))
            if "neck" in points:
                back = np.where(np.isfinite(back), back, points["neck"])
            ahead = (points["nose"][:, 0] - back[:, 0]) / torso
            votes += np.where(ahead > nose_margin, 1.0, np.where(ahead < -nose_margin, -1.0, 0.0))
        feet = [points[f"{s}_big_toe"][:, 0] - points[f"{s}_heel"][:, 0] for s in ("right", "left")
                if f"{s}_big_toe" in points and f"{s}_heel" in points]
        if feet:
            toes = np.nanmean(np.stack(feet), axis=0) / torso
            votes += np.where(toes > FEET_MARGIN, 1.0, np.where(toes < -FEET_MARGIN, -1.0, 0.0))
        if fps and MID_HIP in points:
            speed = travel(points[MID_HIP][:, 0], fps) / torso
            votes += 0.5 * np.where(speed > travel_speed, 1.0, np.where(speed < -travel_speed, -1.0, 0.0))
    return votes


def travel(x: np.ndarray, fps: float) -> np.ndarray:
    """Pixels a second across the image, over :data:`TRAVEL_WINDOW_S` around each frame (NaN where
    either end is missing)."""
    half = max(1, int(round(TRAVEL_WINDOW_S * fps / 2)))
    out = np.full(len(x), np.nan)
    if len(x) > 2 * half:
        out[half:-half] = (x[2 * half:] - x[:-2 * half]) * fps / (2 * half)
    return out


def frame_evidence(keypoints: np.ndarray, part_names: Sequence[str], *, fps: float | None = None,
                   frontal_width: float = FRONTAL_WIDTH, side_on: float = SIDE_ON,
                   nose_margin: float = NOSE_MARGIN, travel_speed: float = TRAVEL_SPEED) -> np.ndarray:
    """int8 ``(F,)``: what each frame alone says, a state code, or -128 where it says nothing."""
    points = points_xy(keypoints, part_names)
    frames = len(keypoints)
    torso = torso_length(keypoints, part_names)
    undecided = np.full(frames, -128, dtype=np.int8)
    if not np.isfinite(torso) or torso <= 0:
        return undecided
    width = signed_width(points, torso)
    votes = side_votes(points, torso, fps=fps, nose_margin=nose_margin, travel_speed=travel_speed)
    face = _seen(points, "nose", "right_eye", "left_eye")
    no_face = ~_seen(points, "nose") & ~_seen(points, "right_eye") & ~_seen(points, "left_eye")
    with np.errstate(invalid="ignore"):
        wide = np.abs(width) > frontal_width
        # The sign says frontal or back, unless the face says otherwise: detectors flip all the
        # labels of a person facing them now and then (both eyes and the nose are still seen),
        # and from behind they often still place a nose, but rarely both eyes.
        out = np.where(wide, np.where(width > 0, FRONTAL, BACK), undecided)
        out = np.where(wide & face, FRONTAL, np.where(wide & no_face, BACK, out))
        side = np.abs(width) < side_on
        out = np.where(side & (votes > 0), RIGHT, out)
        out = np.where(side & (votes < 0), LEFT, out)
    return out.astype(np.int8)


def _seen(points: dict[str, np.ndarray], *names: str) -> np.ndarray:
    """bool ``(F,)``: every one of ``names`` seen (False for a part the skeleton lacks)."""
    frames = len(next(iter(points.values())))
    out = np.ones(frames, dtype=bool)
    for name in names:
        out &= np.isfinite(points[name][:, 0]) if name in points else False
    return out


def hold(evidence: np.ndarray, min_run: int = 1) -> np.ndarray:
    """int8 ``(F,)`` states from per-frame ``evidence`` (codes, -128 = none): see the module."""
    frames = len(evidence)
    states = np.full(frames, FRONTAL, dtype=np.int8)
    decided = np.flatnonzero(evidence != -128)
    if not len(decided):
        return states
    signs = evidence[decided]
    starts = np.flatnonzero(np.concatenate([[True], signs[1:] != signs[:-1]]))
    lengths = np.diff(np.concatenate([starts, [len(signs)]]))
    accepted = starts[lengths >= max(1, min_run)]
    if not len(accepted):
        return states
    # From the first frame of each accepted run, its state until the next accepted run.
    begin = decided[accepted]
    which = np.searchsorted(begin, np.arange(frames), side="right") - 1
    known = which >= 0
    states[known] = signs[accepted][which[known]]
    return states


def facing_states(keypoints: np.ndarray, part_names: Sequence[str], *, fps: float | None = None,
                  min_run: int = 1, frontal_width: float = FRONTAL_WIDTH, side_on: float = SIDE_ON,
                  nose_margin: float = NOSE_MARGIN, travel_speed: float = TRAVEL_SPEED) -> np.ndarray:
    """int8 ``(F,)`` facing states (:data:`RIGHT`, :data:`LEFT`, :data:`FRONTAL`, :data:`BACK`)
    of one person, frame by frame (see the module docstring)."""
    evidence = frame_evidence(keypoints, part_names, fps=fps, frontal_width=frontal_width, side_on=side_on,
                              nose_margin=nose_margin, travel_speed=travel_speed)
    return hold(evidence, min_run)


def facing_directions(keypoints: np.ndarray, part_names: Sequence[str], *, fps: float | None = None,
                      min_run: int = 1) -> np.ndarray:
    """int8 ``(F,)`` mirror signs: -1 where the person faces left, +1 elsewhere."""
    return mirror_signs(facing_states(keypoints, part_names, fps=fps, min_run=min_run))

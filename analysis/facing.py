"""Which way a person faces, frame by frame, so that angles can be mirrored for one facing left.

Facing: Sports2D decides per frame from the feet (toes left of heels = facing left); OpenPose-18
has no feet, so :func:`facing_directions` decides from the head, and only where the person is
seen side-on (shoulders close together across the image): facing right when the nose is to the
right of the ears' midpoint (the neck when no ear is seen) by more than ``margin`` x the torso
length. Elsewhere (a frontal view: the joint angles' signs mean little there) the last decision
holds, and a new direction must last ``min_run`` frames to replace it (no flicker).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from analysis.points import HEAD, points_xy, torso_length

#: The nose must be this fraction of the torso length ahead of the ears to say which way a
#: person faces (about 2.5 cm for a 50 cm torso): a frontal view keeps the last decision.
FACING_MARGIN = 0.05
#: Seen side-on: shoulders (else hips) closer than this many torso lengths across the image.
#: Facing a camera they are about 0.7 torso lengths apart.
SIDE_ON = 0.35


def facing_directions(keypoints: np.ndarray, part_names: Sequence[str], *, margin: float = FACING_MARGIN,
                      side_on: float = SIDE_ON, min_run: int = 1) -> np.ndarray:
    """int8 ``(F,)``: +1 where the person faces right, -1 left (see the module docstring).

    A frame decides only when the person is seen side-on (shoulders, else hips, less than
    ``side_on`` torso lengths apart across the image) and the nose is ``margin`` torso lengths
    ahead of the ears; a direction must be decided in ``min_run`` decided frames running to
    replace the one before. Other frames keep the last decision; frames before the first take
    it; never decided: +1 everywhere (no mirroring)."""
    points = points_xy(keypoints, part_names)
    frames = len(keypoints)
    torso = torso_length(keypoints, part_names)
    if "nose" not in points or not np.isfinite(torso):
        return np.ones(frames, dtype=np.int8)
    back = points.get(HEAD, np.full((frames, 2), np.nan))
    if "neck" in points:
        back = np.where(np.isfinite(back), back, points["neck"])
    ahead = points["nose"][:, 0] - back[:, 0]
    width = np.full(frames, np.nan)
    for right, left in (("right_hip", "left_hip"), ("right_shoulder", "left_shoulder")):
        if right in points and left in points:
            across = np.abs(points[right][:, 0] - points[left][:, 0])
            width = np.where(np.isfinite(across), across, width)
    with np.errstate(invalid="ignore"):
        profile = width < side_on * torso
        clear = np.where(profile & (ahead > margin * torso), 1,
                         np.where(profile & (ahead < -margin * torso), -1, 0)).astype(np.int8)
    decided = np.flatnonzero(clear)
    if not len(decided):
        return np.ones(frames, dtype=np.int8)
    signs = clear[decided]
    # Runs of one direction among the decided frames: the first, and each of min_run or more,
    # set the direction from their first frame on (shorter ones are strays: the one before holds).
    starts = np.flatnonzero(np.concatenate([[True], signs[1:] != signs[:-1]]))
    lengths = np.diff(np.concatenate([starts, [len(signs)]]))
    accepted = starts[(lengths >= min_run) | (starts == 0)]
    run = np.maximum(np.searchsorted(accepted, np.arange(len(signs)), side="right") - 1, 0)
    direction = signs[accepted[run]]
    # Every frame takes the direction of the last decided frame up to it (the first before it).
    at = np.searchsorted(decided, np.arange(frames), side="right") - 1
    return direction[np.maximum(at, 0)].astype(np.int8)

"""Joint and segment angles of one person over time, with Sports2D's conventions.

Input: ``keypoints`` float ``(F, K, 3)`` for one person over F frames: x, y in image pixels
(x to the right, **y down**, as everywhere in this project) and a confidence (<= 0: missing),
with ``part_names`` naming the K parts (the skeleton is data; this project passes OpenPose-18's
``pose.skeleton.PART_NAMES``). Output: degrees, float64 ``(F, A)``, NaN in a frame where a point
the angle needs is missing.

Conventions: those of Sports2D (D. Pagnon, JOSS 2024: its README's "Angle conventions" and the
``angle_dict`` / ``points_to_angles`` / ``fixed_angles`` it shares with Pose2Sim). Angles are
read as on the screen (anticlockwise positive, the image's y flipped up) for a person facing
right; a person facing left is mirrored first (x -> -x), so that a bent knee reads the same
whichever way they walk. Trunk, pelvis and shoulders are never mirrored (Sports2D too).

Joint angles (three points a-b-c: the angle at b; four points: between two segments):

==============  ==================================  ======================================
angle           points                              zero; positive
==============  ==================================  ======================================
knee            ankle, knee, hip                    straight leg; flexion (heel to buttock)
hip             knee, hip; mid-hip, neck            thigh along the trunk; flexion (thigh
                                                    forward), negative = extension
shoulder        elbow, shoulder; mid-hip, neck      arm hanging along the trunk; flexion
                                                    (90 = arm forward horizontal, 180 =
                                                    overhead), negative = extension
elbow           wrist, elbow, shoulder              straight arm; flexion
==============  ==================================  ======================================

Sports2D's README says "shoulder: 180 when the arm is aligned with the trunk"; its code (what the
tool outputs) gives 0 for a hanging arm, and so does this module.

Segment angles: anticlockwise from the horizontal pointing the way the person faces, to the
segment's direction (from -> to). Upright trunk and head: +90; hanging arm, standing thigh and
shank: -90; a forearm pointing forward: 0.

==========  ======================================  ====================================
segment     direction                               notes
==========  ======================================  ====================================
shank       knee -> ankle
thigh       hip -> knee
arm         shoulder -> elbow
forearm     elbow -> wrist
trunk       mid-hip -> neck                         never mirrored
head        neck -> ears' midpoint                  Sports2D: neck -> top of head, which
                                                    OpenPose-18 lacks; an ear alone will do
pelvis      right hip -> left hip                   a line, not a direction: [-90, 90),
                                                    0 = level; never mirrored
shoulders   right -> left shoulder                  as pelvis
==========  ======================================  ====================================

``mid_hip`` is the midpoint of the two hips (both needed). Ranges (docs/angles.md): Sports2D
wraps every angle into [-180, 180) ([-90, 90) for pelvis and shoulders) frame by frame. Here
**joint angles** are wrapped frame by frame into (-180, 180] (:func:`joint_range`; flexion
positive, the hyperextension side negative and small in practice) and never unwrapped: a joint
does not turn round, and unwrapping a wrong point would carry a whole run off by a turn.
**Segment angles** are unwrapped over time (:func:`unwrap_degrees`, period 360, or 180 for the
pelvis and shoulder lines, which have no direction): a forearm swinging through "pointing
backwards" moves on to +181 instead of jumping to -179, and the series is shifted by whole
periods so that its median lies in [-period/2, period/2). A step of more than
:data:`MAX_STEP_DEG` between neighbouring frames is noise, not motion: the unwrapping starts
afresh there, so it never shifts a run by a turn (nor by a half turn: the period is the
angle's own, never 180 for a direction, as Sports2D's ``np.unwrap(period=180)`` does).

Missing: an angle is NaN in a frame where a point it needs is missing, and where a segment it is
measured on looks shorter than :data:`FORESHORTENED` of its usual length in the track: the
segment points at (or away from) the camera and its direction in the image is noise (an arm
raised towards the camera would otherwise swing the elbow angle by 150 degrees in a frame).
Sports2D keeps those; set ``foreshortened=0`` to do the same.

Ankle dorsiflexion and the foot segment need the heel and big toe, wrist flexion and the hand
segment a finger (index) point: OpenPose-18 has none of them (:func:`unavailable_angles` says
so); BlazePose-33 has them all (its foot index, the tip of the foot, stands in for the big toe,
and the shoulders' midpoint for the neck it lacks, as Sports2D does).

==============  ==================================  ======================================
ankle           knee, ankle; big toe, heel          foot at right angles to the shank;
                                                    dorsiflexion (Sports2D: offset 90)
wrist           elbow, wrist, index                 hand in line with the forearm; flexion
foot            heel -> big toe (segment)           flat; anticlockwise
hand            wrist -> index (segment)            as the forearm
==============  ==================================  ======================================

Which way a person faces: :mod:`analysis.facing`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from analysis.facing import facing_directions
from analysis.points import HEAD, MID_HIP, STAND_INS, base_parts, points_xy

JOINT, SEGMENT = "joint", "segment"
#: A segment looking shorter than this fraction of its usual length points at the camera: the
#: angles measured on it are left out in that frame.
FORESHORTENED = 0.35
#: A step of more than this between neighbouring frames is noise, not motion: the unwrapping
#: starts afresh there (see :func:`unwrap_degrees`).
MAX_STEP_DEG = 90.0


@dataclass(frozen=True)
class AngleDefinition:
    """One angle. ``points``: part names (or :data:`MID_HIP`, :data:`HEAD`); two points: the
    segment from ``points[1]`` to ``points[0]`` against the horizontal; three: the angle at
    ``points[1]``; four: between ``points[0] -> points[1]`` and ``points[2] -> points[3]``.
    ``offset_deg`` and ``scale`` as Sports2D's ``angle_dict``; ``period_deg`` 360, or 180 for a
    line without a direction; ``mirrored``: mirrored when the person faces left."""

    name: str
    kind: str
    points: tuple[str, ...]
    offset_deg: float
    scale: float
    zero: str
    positive: str
    period_deg: float = 360.0
    mirrored: bool = True

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").capitalize()

    @property
    def range_deg(self) -> tuple[float, float]:
        """Joint angles: every value lies in (-180, 180] (wrapped frame by frame, never unwrapped).
        Segment angles: the range the series' median is brought into, [-period/2, period/2); the
        series itself is unwrapped over time and may leave it (a limb swinging past 180)."""
        return -self.period_deg / 2, self.period_deg / 2

    @property
    def needs_side_view(self) -> bool:
        """Measured in the body's sagittal plane (flexion, limb segments, head): read from a
        person facing or turned away from the camera, it means little (see analysis.facing)."""
        return self.mirrored


def _sides(name: str, kind: str, points: tuple[str, ...], offset: float, scale: float, zero: str,
           positive: str) -> tuple[AngleDefinition, ...]:
    return tuple(AngleDefinition(f"{side}_{name}", kind,
                                 tuple(p.replace("SIDE", side) for p in points), offset, scale, zero, positive)
                 for side in ("right", "left"))


DEFINITIONS: tuple[AngleDefinition, ...] = (
    *_sides("knee", JOINT, ("SIDE_ankle", "SIDE_knee", "SIDE_hip"), -180.0, 1.0,
            "straight leg", "flexion; negative = hyperextension"),
    *_sides("hip", JOINT, ("SIDE_knee", "SIDE_hip", MID_HIP, "neck"), 0.0, -1.0,
            "thigh along the trunk", "flexion (thigh forward); negative = extension"),
    *_sides("shoulder", JOINT, ("SIDE_elbow", "SIDE_shoulder", MID_HIP, "neck"), 0.0, -1.0,
            "arm hanging along the trunk", "flexion (arm forward and up); negative = extension"),
    *_sides("elbow", JOINT, ("SIDE_wrist", "SIDE_elbow", "SIDE_shoulder"), 180.0, -1.0,
            "straight arm", "flexion"),
    *_sides("shank", SEGMENT, ("SIDE_ankle", "SIDE_knee"), 0.0, -1.0,
            "knee -> ankle horizontal, forward", "anticlockwise; -90 = vertical"),
    *_sides("thigh", SEGMENT, ("SIDE_knee", "SIDE_hip"), 0.0, -1.0,
            "hip -> knee horizontal, forward", "anticlockwise; -90 = vertical"),
    *_sides("arm", SEGMENT, ("SIDE_elbow", "SIDE_shoulder"), 0.0, -1.0,
            "shoulder -> elbow horizontal, forward", "anticlockwise; -90 = hanging"),
    *_sides("forearm", SEGMENT, ("SIDE_wrist", "SIDE_elbow"), 0.0, -1.0,
            "elbow -> wrist horizontal, forward", "anticlockwise; -90 = hanging"),
    *_sides("ankle", JOINT, ("SIDE_knee", "SIDE_ankle", "SIDE_big_toe", "SIDE_heel"), 90.0, 1.0,
            "foot at right angles to the shank", "dorsiflexion (toes up); negative = plantarflexion"),
    *_sides("wrist", JOINT, ("SIDE_elbow", "SIDE_wrist", "SIDE_index"), -180.0, 1.0,
            "hand in line with the forearm", "flexion"),
    *_sides("foot", SEGMENT, ("SIDE_big_toe", "SIDE_heel"), 0.0, -1.0,
            "heel -> toe horizontal, forward", "anticlockwise; 0 = flat"),
    *_sides("hand", SEGMENT, ("SIDE_index", "SIDE_wrist"), 0.0, -1.0,
            "wrist -> index horizontal, forward", "anticlockwise; -90 = hanging"),
    AngleDefinition("trunk", SEGMENT, ("neck", MID_HIP), 0.0, -1.0,
                    "mid-hip -> neck horizontal, to the image's right", "anticlockwise; 90 = upright",
                    mirrored=False),
    AngleDefinition("head", SEGMENT, (HEAD, "neck"), 0.0, -1.0,
                    "neck -> ears horizontal, forward", "anticlockwise; 90 = upright"),
    AngleDefinition("pelvis", SEGMENT, ("left_hip", "right_hip"), 0.0, -1.0,
                    "hips level", "anticlockwise tilt of right hip -> left hip", period_deg=180.0,
                    mirrored=False),
    AngleDefinition("shoulders", SEGMENT, ("left_shoulder", "right_shoulder"), 0.0, -1.0,
                    "shoulders level", "anticlockwise tilt of right -> left shoulder", period_deg=180.0,
                    mirrored=False),
)
BY_NAME = {d.name: d for d in DEFINITIONS}


class AngleNameError(ValueError):
    """An angle name that is unknown, or that the skeleton cannot give."""


def _shown(raw: object, limit: int = 40) -> str:
    """A bad name as a message repeats it: its repr, at most ``limit`` characters and the length."""
    text = repr(raw)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(str(raw)):,} characters)"


def angle_parts(name: str, part_names: Sequence[str] = ()) -> tuple[str, ...]:
    """The parts of skeleton ``part_names`` angle ``name`` is made from (derived points and
    stand-ins, such as BlazePose's neck from the shoulders, resolved)."""
    return tuple(dict.fromkeys(q for p in BY_NAME[name].points for q in base_parts(p, part_names)))


def available_angles(part_names: Sequence[str]) -> tuple[str, ...]:
    """The angles this skeleton gives, in :data:`DEFINITIONS` order."""
    have = set(part_names)
    return tuple(d.name for d in DEFINITIONS
                 if all(set(base_parts(p, part_names)) <= have for p in d.points))


def unavailable_angles(part_names: Sequence[str]) -> dict[str, str]:
    """Sports2D's angles this skeleton cannot give: name -> why (the parts it lacks)."""
    have, out = set(part_names), {}
    for definition in DEFINITIONS:
        missing: list[str] = []
        for point in definition.points:
            parts = base_parts(point, part_names)
            if not set(parts) <= have:  # a stand-in is named as the point it stands in for
                missing += [point] if point in STAND_INS else [p for p in parts if p not in have]
        if missing:
            out[definition.name] = f"needs {', '.join(dict.fromkeys(missing))}, which this skeleton does not have"
    return out


def resolve_angle_names(requested: Sequence[str] | None, part_names: Sequence[str]) -> tuple[str, ...]:
    """``requested`` checked against the skeleton (None = all it gives), in the given order,
    without repeats. Raises :class:`AngleNameError` naming the first bad name and why."""
    available = available_angles(part_names)
    if requested is None:
        return available
    missing = unavailable_angles(part_names)
    names: list[str] = []
    for raw in requested:
        name = str(raw).strip().lower().replace(" ", "_").replace("-", "_")
        if name in missing:
            raise AngleNameError(f"angle {_shown(raw)} is not available: it {missing[name]}")
        if name not in available:
            raise AngleNameError(f"unknown angle {_shown(raw)}; known: {', '.join(available)}")
        if name not in names:
            names.append(name)
    if not names:
        raise AngleNameError("no angle named; give angle names separated by commas, or 'all'")
    return tuple(names)


def parse_angle_option(text: str | None, part_names: Sequence[str]) -> tuple[str, ...] | None:
    """An ``angles`` option as a person types it: ``"all"``, empty or None -> None (all the
    skeleton gives); ``"right_knee, left knee"`` -> the checked names. Raises AngleNameError."""
    if text is None or str(text).strip().lower() in ("", "all"):
        return None
    return resolve_angle_names([part for part in str(text).split(",") if part.strip()], part_names)


@dataclass(frozen=True, eq=False)
class AngleSeries:
    """``names`` (A,); ``degrees`` float64 ``(F, A)`` unwrapped, NaN where missing;
    ``facing`` int8 ``(F,)``: +1 facing right, -1 facing left (mirrored)."""

    names: tuple[str, ...]
    degrees: np.ndarray
    facing: np.ndarray

    def __getitem__(self, name: str) -> np.ndarray:
        return self.degrees[:, self.names.index(name)]


def compute_angles(keypoints: np.ndarray, part_names: Sequence[str], *, names: Sequence[str] | None = None,
                   facing: np.ndarray | None = None, foreshortened: float = FORESHORTENED,
                   max_step_deg: float = MAX_STEP_DEG) -> AngleSeries:
    """Angles ``names`` (default: all the skeleton gives) of one person, per frame, unwrapped.

    facing: int ``(F,)`` +1 / -1 (default: :func:`facing_directions` of these keypoints); pass
    the smoothed keypoints' facing when computing the raw ones, so both mirror alike.
    foreshortened: an angle is missing in a frame where a segment it is measured on looks
    shorter than this fraction of that segment's usual length in the track (its 90th
    percentile): the segment points at the camera and its direction in the image is noise.
    0 keeps them all. max_step_deg: see :func:`unwrap_degrees`.
    """
    names = resolve_angle_names(names, part_names)
    points = points_xy(keypoints, part_names)
    frames = len(keypoints)
    if facing is None:
        facing = facing_directions(keypoints, part_names)
    facing = np.asarray(facing, dtype=np.int8)
    if facing.shape != (frames,):
        raise ValueError(f"facing must have shape ({frames},), got {facing.shape}")
    out = np.full((frames, len(names)), np.nan)
    for column, name in enumerate(names):
        definition = BY_NAME[name]
        coords = [points[p].copy() for p in definition.points]
        if definition.mirrored:
            for xy in coords:
                xy[:, 0] *= facing
        vectors = _vectors(coords)
        degrees = _wrapped(definition, vectors)
        for vector in vectors:
            degrees[_too_short(vector, foreshortened)] = np.nan
        if definition.kind == JOINT:
            out[:, column] = joint_range(degrees)
        else:
            out[:, column] = unwrap_degrees(degrees, definition.period_deg, max_step_deg=max_step_deg)
    return AngleSeries(names=tuple(names), degrees=out, facing=facing)


def _vectors(coords: list[np.ndarray]) -> list[np.ndarray]:
    """The segments an angle is measured on (Sports2D's ``points_to_angles``)."""
    if len(coords) == 2:
        return [coords[0] - coords[1]]
    if len(coords) == 3:
        return [coords[0] - coords[1], coords[2] - coords[1]]
    return [coords[1] - coords[0], coords[3] - coords[2]]


def _too_short(vector: np.ndarray, fraction: float) -> np.ndarray:
    lengths = np.linalg.norm(vector, axis=1)
    seen = np.isfinite(lengths)
    if fraction <= 0 or not seen.any():
        return np.zeros(len(vector), dtype=bool)
    usual = np.percentile(lengths[seen], 90)
    return seen & (lengths < fraction * usual)


def _direction(vector: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(vector[:, 1], vector[:, 0]))


def _wrapped(definition: AngleDefinition, vectors: list[np.ndarray]) -> np.ndarray:
    """Sports2D's ``fixed_angles``: degrees in [-period/2, period/2), image y down."""
    raw = _direction(vectors[0]) if len(vectors) == 1 else _direction(vectors[0]) - _direction(vectors[1])
    value = (raw + definition.offset_deg) * definition.scale
    half = definition.period_deg / 2
    return (value + half) % definition.period_deg - half


def joint_range(values: np.ndarray) -> np.ndarray:
    """Joint angles frame by frame in (-180, 180]: flexion positive up to 180 (fully folded),
    the other side (hyperextension, extension) negative. Never unwrapped: a joint cannot turn
    round, so a value past 180 is a wrong point, not motion, and unwrapping would carry it on
    (a bent elbow read as -247 for the rest of a run)."""
    values = np.asarray(values, dtype=np.float64)
    return 180.0 - (180.0 - values) % 360.0


def unwrap_degrees(values: np.ndarray, period_deg: float = 360.0, *, max_step_deg: float | None = None) -> np.ndarray:
    """``values`` (degrees, NaN = missing) without jumps of more than half a period between
    neighbouring defined samples (NaN gaps are bridged the shortest way), shifted by whole
    periods so that the median lies in [-period/2, period/2).

    max_step_deg: a step between neighbours larger than this (the shortest way round) is not
    motion but noise (a segment seen end-on, a mislabelled point): the series is cut there and
    each piece unwrapped and centred on its own, so such steps never add up to whole turns.
    """
    values = np.asarray(values, dtype=np.float64)
    out = values.copy()
    defined = np.flatnonzero(np.isfinite(values))
    if not len(defined):
        return out
    half = period_deg / 2
    steps = (np.diff(values[defined]) + half) % period_deg - half
    cuts = np.flatnonzero(np.abs(steps) > max_step_deg) + 1 if max_step_deg is not None else np.zeros(0, int)
    for piece in np.split(defined, cuts):
        unwrapped = np.unwrap(values[piece], period=period_deg)
        shift = np.floor((np.median(unwrapped) + half) / period_deg) * period_deg
        out[piece] = unwrapped - shift
    return out


def align_branches(values: np.ndarray, reference: np.ndarray, period_deg: float = 360.0) -> np.ndarray:
    """``values`` moved by whole periods, frame by frame, to the branch nearest ``reference``
    where that is defined (the raw series beside the smoothed one it is plotted with)."""
    values = np.asarray(values, dtype=np.float64)
    turns = np.round((np.asarray(reference, dtype=np.float64) - values) / period_deg)
    return values + np.where(np.isfinite(turns), turns, 0.0) * period_deg

"""Skeletons as data, and the typed per-person result.

A :class:`Skeleton` describes what one model gives: the K parts it names, the limbs drawn
between them, their colours, how its parts map to COCO's 17 keypoints, and whether it also gives
3D world coordinates. People, drawing, boxes, angles and exports take the skeleton as a
parameter; :data:`OPENPOSE_18` (mobilenet_thin, OpenPose COCO), :data:`BLAZEPOSE_33`, :data:`MPI_15` and
:data:`BODY_25` (OpenPose's Caffe models) are the skeletons of the models this project runs.

Coordinates are always **pixels in the source image** (x right, y down, origin at the centre of
the top-left pixel, as OpenCV draws). A part that was not found has confidence 0.0 and
x = y = 0.0; use :attr:`Person.visible` rather than testing coordinates. World coordinates
(:attr:`Person.world`, models whose skeleton ``has_world``) are metres with the origin at the
centre between the hips, axes as the image's (x right, y down) and z away from the camera
(smaller = nearer), as MediaPipe gives them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Color = tuple[int, int, int]

# COCO-17 keypoint order (the COCO results file and the COCO-17 views of every export).
COCO17_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)


@dataclass(frozen=True)
class Skeleton:
    """What a model's keypoints are.

    name: short identifier ("openpose18", "blazepose33"), as exports and the API write it.
    part_names: the K parts, in the order of a person's keypoint rows (snake_case,
        ``left_``/``right_`` as the person's own sides).
    limbs: (a, b) part index pairs drawn as lines.
    part_colors / limb_colors: one BGR colour per part / per limb.
    coco17: for each of the 17 COCO keypoints (:data:`COCO17_NAMES`) the part index, or None
        where this skeleton has no such part; None = no COCO view at all.
    has_world: the model also gives 3D world coordinates in metres (``Person.world``).
    openpose_json: the parts are OpenPose's BODY-18 (COCO-18) order, so an OpenPose-format
        JSON export of them means what OpenPose tools expect; other skeletons do not write it.
    markers: OpenSim marker names for the ``.trc`` files, one per part.
    """

    name: str
    part_names: tuple[str, ...]
    limbs: tuple[tuple[int, int], ...]
    part_colors: tuple[Color, ...]
    limb_colors: tuple[Color, ...]
    coco17: tuple[int | None, ...] | None
    has_world: bool = False
    openpose_json: bool = False
    markers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        k = len(self.part_names)
        if len(self.part_colors) != k or len(self.limb_colors) != len(self.limbs):
            raise ValueError(f"{self.name}: one colour per part and per limb is needed")
        if any(not (0 <= a < k and 0 <= b < k) for a, b in self.limbs):
            raise ValueError(f"{self.name}: a limb names a part outside 0..{k - 1}")
        if self.coco17 is not None and len(self.coco17) != len(COCO17_NAMES):
            raise ValueError(f"{self.name}: coco17 needs {len(COCO17_NAMES)} entries")
        if self.markers and len(self.markers) != k:
            raise ValueError(f"{self.name}: one marker name per part is needed")

    @property
    def num_parts(self) -> int:
        return len(self.part_names)

    @property
    def marker_names(self) -> tuple[str, ...]:
        return self.markers or self.part_names

    def index(self, part: str) -> int:
        return self.part_names.index(part)

    def to_coco17(self, keypoints: np.ndarray) -> np.ndarray:
        """(K, 3) keypoints -> (17, 3) float32 in COCO order (0, 0, 0 where this skeleton lacks
        the part or it is missing). Raises ValueError when there is no COCO view or K is wrong."""
        keypoints = np.asarray(keypoints)
        if keypoints.shape[0] != self.num_parts:
            raise ValueError(f"{self.name} has {self.num_parts} parts, got keypoints of shape {keypoints.shape}")
        if self.coco17 is None:
            raise ValueError(f"the {self.name} skeleton has no COCO-17 view")
        out = np.zeros((len(COCO17_NAMES), keypoints.shape[1]), dtype=np.float32)
        for row, part in enumerate(self.coco17):
            if part is not None:
                out[row] = keypoints[part]
        return out

    def describe(self) -> dict:
        """JSON-ready: name, parts, limbs, has_world, coco17 (what exports and the page read)."""
        return {"name": self.name, "parts": list(self.part_names), "limbs": [list(limb) for limb in self.limbs],
                "has_world": self.has_world, "coco17": None if self.coco17 is None else list(self.coco17)}


def coco17_by_name(part_names: tuple[str, ...]) -> tuple[int | None, ...]:
    """The COCO-17 mapping of a skeleton whose parts use COCO's names."""
    return tuple(part_names.index(n) if n in part_names else None for n in COCO17_NAMES)


def side_colors(part_names: tuple[str, ...], limbs: tuple[tuple[int, int], ...], *,
                left: Color = (0, 140, 255), right: Color = (255, 170, 0),
                centre: Color = (200, 200, 200)) -> tuple[tuple[Color, ...], tuple[Color, ...]]:
    """(part colours, limb colours) by side: the person's left orange, right blue, the rest
    grey (a limb takes its side when both ends are on it)."""
    def side(name: str) -> Color:
        return left if name.startswith("left_") else right if name.startswith("right_") else centre
    parts = tuple(side(n) for n in part_names)
    limb_colors = tuple(parts[a] if parts[a] == parts[b] else centre for a, b in limbs)
    return parts, limb_colors


# --- OpenPose BODY-18 (COCO-18), the mobilenet_thin graph's parts --------------------------

PART_NAMES: tuple[str, ...] = (
    "nose", "neck",
    "right_shoulder", "right_elbow", "right_wrist",
    "left_shoulder", "left_elbow", "left_wrist",
    "right_hip", "right_knee", "right_ankle",
    "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
)
NUM_PARTS = len(PART_NAMES)  # 18; heatmap channel 18 is the background

# The 19 limbs the graph has PAFs for: (part_a, part_b) and the PAF channels (x, y) of each,
# counted from the start of the PAF block (network output channel 19 + index).
LIMBS: tuple[tuple[int, int], ...] = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11),
    (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17), (2, 16), (5, 17),
)
LIMB_PAF_CHANNELS: tuple[tuple[int, int], ...] = (
    (12, 13), (20, 21), (14, 15), (16, 17), (22, 23), (24, 25), (0, 1), (2, 3), (4, 5), (6, 7),
    (8, 9), (10, 11), (28, 29), (30, 31), (34, 35), (32, 33), (36, 37), (18, 19), (26, 27),
)
COCO17_FROM_OPENPOSE: tuple[int, ...] = (0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10)

# tf-pose-estimation's CocoColors, one per part and per drawn limb (BGR there too).
_OPENPOSE_COLORS: tuple[Color, ...] = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
    (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
    (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)

OPENPOSE_18 = Skeleton(
    name="openpose18", part_names=PART_NAMES,
    limbs=LIMBS[:-2],  # the two ear-shoulder PAFs help assembly but are not drawn (tf-pose)
    part_colors=_OPENPOSE_COLORS, limb_colors=_OPENPOSE_COLORS[: len(LIMBS) - 2],
    coco17=COCO17_FROM_OPENPOSE, has_world=False, openpose_json=True,
    # OpenPose's own names (Pose2Sim's COCO_18 markers)
    markers=("Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "RHip", "RKnee",
             "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar"),
)

# --- BlazePose GHUM 3D (MediaPipe Pose), 33 landmarks ----------------------------------------

BLAZEPOSE_PART_NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_pinky", "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)
BLAZEPOSE_LIMBS: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
    (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)
_BLAZEPOSE_PART_COLORS, _BLAZEPOSE_LIMB_COLORS = side_colors(BLAZEPOSE_PART_NAMES, BLAZEPOSE_LIMBS)


def _pascal(name: str) -> str:
    side, _, rest = name.partition("_")
    prefix = {"left": "L", "right": "R"}.get(side)
    words = rest.split("_") if prefix else name.split("_")
    return (prefix or "") + "".join(w.capitalize() for w in words)


BLAZEPOSE_33 = Skeleton(
    name="blazepose33", part_names=BLAZEPOSE_PART_NAMES, limbs=BLAZEPOSE_LIMBS,
    part_colors=_BLAZEPOSE_PART_COLORS, limb_colors=_BLAZEPOSE_LIMB_COLORS,
    coco17=coco17_by_name(BLAZEPOSE_PART_NAMES), has_world=True, openpose_json=False,
    markers=tuple(_pascal(n) for n in BLAZEPOSE_PART_NAMES),  # RFootIndex, LHeel, ...
)

# --- OpenPose's Caffe models: MPI (15 parts) and BODY_25 (25 parts, feet) -------------------
# Parts, PAF pairs and PAF channels as OpenPose's poseParameters.cpp gives them (POSE_*_PAIRS,
# POSE_*_MAP_IDX counted from the start of the PAF block). COCO's Caffe model is OPENPOSE_18's.

MPI_PART_NAMES: tuple[str, ...] = (
    "head_top", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
    "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "chest",
)
MPI_LIMBS: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7), (1, 14), (14, 8), (8, 9), (9, 10),
    (14, 11), (11, 12), (12, 13),
)
MPI_LIMB_PAF_CHANNELS: tuple[tuple[int, int], ...] = tuple((2 * i, 2 * i + 1) for i in range(len(MPI_LIMBS)))
_MPI_PART_COLORS, _MPI_LIMB_COLORS = side_colors(MPI_PART_NAMES, MPI_LIMBS)

MPI_15 = Skeleton(
    name="mpi15", part_names=MPI_PART_NAMES, limbs=MPI_LIMBS,
    part_colors=_MPI_PART_COLORS, limb_colors=_MPI_LIMB_COLORS,
    coco17=coco17_by_name(MPI_PART_NAMES),  # no face parts: the head top is not the nose
    markers=("Head", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "RHip", "RKnee",
             "RAnkle", "LHip", "LKnee", "LAnkle", "Chest"),
)

BODY25_PART_NAMES: tuple[str, ...] = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
    "left_wrist", "mid_hip", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee",
    "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear", "left_big_toe", "left_small_toe",
    "left_heel", "right_big_toe", "right_small_toe", "right_heel",
)
BODY25_PAF_LIMBS: tuple[tuple[int, int], ...] = (
    (1, 8), (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (8, 9), (9, 10), (10, 11), (8, 12), (12, 13),
    (13, 14), (1, 0), (0, 15), (15, 17), (0, 16), (16, 18), (2, 17), (5, 18), (14, 19), (19, 20), (14, 21),
    (11, 22), (22, 23), (11, 24),
)
BODY25_LIMB_PAF_CHANNELS: tuple[tuple[int, int], ...] = (
    (0, 1), (14, 15), (22, 23), (16, 17), (18, 19), (24, 25), (26, 27), (6, 7), (2, 3), (4, 5), (8, 9),
    (10, 11), (12, 13), (30, 31), (32, 33), (36, 37), (34, 35), (38, 39), (20, 21), (28, 29), (40, 41),
    (42, 43), (44, 45), (46, 47), (48, 49), (50, 51),
)
#: The BODY_25 PAF pairs that only extend people (ear-shoulder, as OpenPose's COCO last two).
BODY25_EXTEND_ONLY: tuple[int, ...] = (18, 19)
_BODY25_DRAWN = tuple(limb for i, limb in enumerate(BODY25_PAF_LIMBS) if i not in BODY25_EXTEND_ONLY)
_BODY25_PART_COLORS, _BODY25_LIMB_COLORS = side_colors(BODY25_PART_NAMES, _BODY25_DRAWN)

BODY_25 = Skeleton(
    name="body25", part_names=BODY25_PART_NAMES, limbs=_BODY25_DRAWN,
    part_colors=_BODY25_PART_COLORS, limb_colors=_BODY25_LIMB_COLORS,
    coco17=coco17_by_name(BODY25_PART_NAMES),
    markers=tuple(_pascal(n) for n in BODY25_PART_NAMES),  # LBigToe, RHeel, MidHip, ...
)

# --- COCO's 17 keypoints (top-down models such as torchvision's Keypoint R-CNN) ----------------

_COCO17_LIMBS: tuple[tuple[int, int], ...] = (
    (0, 1), (0, 2), (1, 3), (2, 4), (5, 6), (5, 7), (7, 9), (6, 8), (8, 10), (5, 11), (6, 12), (11, 12),
    (11, 13), (13, 15), (12, 14), (14, 16),
)
_COCO17_PART_COLORS, _COCO17_LIMB_COLORS = side_colors(COCO17_NAMES, _COCO17_LIMBS)
COCO_17 = Skeleton(
    name="coco17", part_names=COCO17_NAMES, limbs=_COCO17_LIMBS,
    part_colors=_COCO17_PART_COLORS, limb_colors=_COCO17_LIMB_COLORS,
    coco17=tuple(range(len(COCO17_NAMES))), markers=tuple(_pascal(n) for n in COCO17_NAMES),
)

SKELETONS: dict[str, Skeleton] = {s.name: s for s in (OPENPOSE_18, BLAZEPOSE_33, MPI_15, BODY_25, COCO_17)}


@dataclass(frozen=True, eq=False)
class Person:
    """One person.

    keypoints: float32 array of shape (K, 3), the K parts in the order of the model's skeleton;
        columns x, y (source image pixels) and confidence (OpenPose: the heatmap peak value;
        BlazePose: the landmark's visibility; 0.0 means not found).
    score: the person's score (higher is more certain), used to rank people and as the COCO score.
    world: None, or float32 (K, 3) world coordinates in metres (hip-centred; the skeleton's
        ``has_world`` models), the same parts in the same order.
    """

    keypoints: np.ndarray
    score: float
    world: np.ndarray | None = None

    def __post_init__(self) -> None:
        shape = getattr(self.keypoints, "shape", None)
        if shape is None or len(shape) != 2 or shape[1] != 3 or shape[0] < 1:
            raise ValueError(f"keypoints must have shape (K, 3), got {shape}")
        if self.world is not None and getattr(self.world, "shape", None) != shape:
            raise ValueError(f"world must have the keypoints' shape {shape}, got {getattr(self.world, 'shape', None)}")

    @property
    def visible(self) -> np.ndarray:
        """Boolean mask of shape (K,): True where the part was found."""
        return self.keypoints[:, 2] > 0

    @property
    def num_parts(self) -> int:
        """How many parts were found."""
        return int(self.visible.sum())

    @property
    def box(self) -> tuple[float, float, float, float]:
        """Tight box (x1, y1, x2, y2) around the visible parts, in pixels."""
        points = self.keypoints[self.visible, :2]
        x1, y1 = points.min(axis=0)
        x2, y2 = points.max(axis=0)
        return float(x1), float(y1), float(x2), float(y2)

    def to_coco17(self, skeleton: Skeleton = OPENPOSE_18) -> np.ndarray:
        """(17, 3) float32 array in COCO order: x, y, confidence (0 where missing)."""
        return skeleton.to_coco17(self.keypoints)

    def coco_keypoints_flat(self, skeleton: Skeleton = OPENPOSE_18) -> list[float]:
        """The 51 values of a COCO result entry: x, y, v per keypoint; missing parts are 0, 0, 0."""
        return coco_flat(self.to_coco17(skeleton))


def coco_flat(coco: np.ndarray) -> list[float]:
    """(17, 3) COCO-order keypoints -> the 51 values of a COCO result entry (0, 0, 0 = missing)."""
    flat: list[float] = []
    for x, y, c in coco:
        flat.extend((round(float(x), 2), round(float(y), 2), round(float(c), 4)) if c > 0 else (0.0, 0.0, 0.0))
    return flat

"""The OpenPose-18 skeleton: part names, limbs, and the typed per-person result.

Coordinates are always **pixels in the source image** (x right, y down, origin at the centre of
the top-left pixel, as OpenCV draws). A part that was not found has
confidence 0.0 and x = y = 0.0; use :attr:`Person.visible` rather than testing coordinates.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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

# COCO-17 keypoint order and its mapping from the 18 OpenPose parts (Neck is dropped).
COCO17_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)
COCO17_FROM_OPENPOSE: tuple[int, ...] = (0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10)


@dataclass(frozen=True, eq=False)
class Person:
    """One assembled person.

    keypoints: float32 array of shape (18, 3) in OpenPose part order; columns are x, y (source
        image pixels) and confidence (the heatmap peak value, 0..~1; 0.0 means not found).
    score: the person's score (higher is more certain), used to rank people and as the COCO score.
    """

    keypoints: np.ndarray
    score: float

    def __post_init__(self) -> None:
        if self.keypoints.shape != (NUM_PARTS, 3):
            raise ValueError(f"keypoints must have shape (18, 3), got {self.keypoints.shape}")

    @property
    def visible(self) -> np.ndarray:
        """Boolean mask of shape (18,): True where the part was found."""
        return self.keypoints[:, 2] > 0

    @property
    def num_parts(self) -> int:
        return int(self.visible.sum())

    @property
    def box(self) -> tuple[float, float, float, float]:
        """Tight box (x1, y1, x2, y2) around the visible parts, in pixels."""
        points = self.keypoints[self.visible, :2]
        x1, y1 = points.min(axis=0)
        x2, y2 = points.max(axis=0)
        return float(x1), float(y1), float(x2), float(y2)

    def to_coco17(self) -> np.ndarray:
        """(17, 3) float32 array in COCO order: x, y, confidence (0 where missing)."""
        return self.keypoints[list(COCO17_FROM_OPENPOSE)].copy()

    def coco_keypoints_flat(self) -> list[float]:
        """The 51 values of a COCO result entry: x, y, v per keypoint; missing parts are 0, 0, 0."""
        coco = self.to_coco17()
        flat: list[float] = []
        for x, y, c in coco:
            flat.extend((round(float(x), 2), round(float(y), 2), round(float(c), 4)) if c > 0 else (0.0, 0.0, 0.0))
        return flat

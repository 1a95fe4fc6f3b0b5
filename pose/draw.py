"""Drawing skeletons: limbs and joints in the skeleton's fixed colours (or one colour per person,
for tracked video), optional labels (track IDs).

Colours are BGR tuples. What is drawn comes from the :class:`~pose.skeleton.Skeleton` given
(default OpenPose-18: its 17 rendered limbs, tf-pose-estimation's palette; BlazePose-33: its 35
connections, coloured by side).
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from pose.preprocess import to_bgr8
from pose.skeleton import OPENPOSE_18, Color, Person, Skeleton

# OpenPose-18's, kept as names for callers that draw or test that skeleton.
PART_COLORS: tuple[Color, ...] = OPENPOSE_18.part_colors
RENDER_LIMBS: tuple[tuple[int, int], ...] = OPENPOSE_18.limbs
LIMB_COLORS: tuple[Color, ...] = OPENPOSE_18.limb_colors
DEFAULT_LABEL_COLOR: Color = (48, 48, 48)
UNCOLORED_PERSON: Color = (160, 160, 160)  # color_by="person" with no colour given (e.g. no ID yet)
COLOR_MODES = ("limb", "person")


class SkeletonAnnotator:
    """Draws people on an image.

    thickness: limb line width in pixels; None (default) scales with the image (1 px per
        300 px of its shorter side, at least 1).
    radius: joint circle radius in pixels; None (default) is thickness + 2.
    font_scale: label text scale (OpenCV Hershey simplex); None (default) scales with the image.
    color_by: "limb" (default): every limb and joint in its fixed colour, a person's colour only
        on its label box; "person": the whole skeleton in the person's colour (one colour per
        track ID on video), grey for a person given no colour.
    skeleton: what the people's keypoints are (default OpenPose-18).
    """

    def __init__(self, *, thickness: int | None = None, radius: int | None = None,
                 font_scale: float | None = None, color_by: str = "limb",
                 skeleton: Skeleton = OPENPOSE_18) -> None:
        for name, value in (("thickness", thickness), ("radius", radius), ("font_scale", font_scale)):
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
        if color_by not in COLOR_MODES:
            raise ValueError(f"color_by must be one of {COLOR_MODES}, got {color_by!r}")
        self.color_by = color_by
        self.skeleton = skeleton
        self.thickness = thickness
        self.radius = radius
        self.font_scale = font_scale

    def annotate(
        self,
        image_bgr: np.ndarray,
        persons: Sequence[Person],
        *,
        labels: Sequence[str | None] | None = None,
        colors: Sequence[Color | None] | None = None,
        skeleton_only: bool = False,
    ) -> np.ndarray:
        """A new uint8 BGR (H, W, 3) image with every person's skeleton drawn.

        image_bgr: the image the persons' pixel coordinates refer to (converted with to_bgr8).
        labels: one text per person (None = no label), e.g. a track ID, drawn above the person.
        colors: one BGR colour per person (None = default) for that person's label box, and
            with color_by="person" for the whole skeleton.
        skeleton_only: draw on a black canvas of the same size instead of on the image.
        """
        base = to_bgr8(image_bgr)
        canvas = np.zeros_like(base) if skeleton_only else base.copy()
        for name, values in (("labels", labels), ("colors", colors)):
            if values is not None and len(values) != len(persons):
                raise ValueError(f"{name} has {len(values)} entries for {len(persons)} persons")
        thickness, radius, font_scale = self._sizes(canvas.shape[0], canvas.shape[1])
        for index, person in enumerate(persons):
            person_color = None
            if self.color_by == "person":
                person_color = (colors[index] if colors is not None else None) or UNCOLORED_PERSON
            _draw_skeleton(canvas, person, self.skeleton, thickness, radius, person_color)
        for index, person in enumerate(persons):
            label = labels[index] if labels is not None else None
            if label and person.num_parts:
                color = (colors[index] if colors is not None else None) or DEFAULT_LABEL_COLOR
                _draw_label(canvas, person, str(label), color, font_scale)
        return canvas

    def _sizes(self, height: int, width: int) -> tuple[int, int, float]:
        short_side = min(height, width)
        thickness = self.thickness or max(1, round(short_side / 300))
        radius = self.radius or thickness + 2
        font_scale = self.font_scale or max(0.4, short_side / 900)
        return thickness, radius, font_scale


def _draw_skeleton(canvas: np.ndarray, person: Person, skeleton: Skeleton, thickness: int, radius: int,
                   person_color: Color | None) -> None:
    """Limbs then joints; in ``person_color`` when given (joints ringed in black to stand out),
    else in the skeleton's per-limb / per-part palette."""
    if person.keypoints.shape[0] != skeleton.num_parts:
        raise ValueError(f"a {skeleton.name} annotator got a person with {person.keypoints.shape[0]} parts")
    points = np.round(person.keypoints[:, :2]).astype(np.int32)
    visible = person.visible
    for (a, b), color in zip(skeleton.limbs, skeleton.limb_colors):
        if visible[a] and visible[b]:
            cv2.line(canvas, tuple(map(int, points[a])), tuple(map(int, points[b])),
                     person_color or color, thickness, cv2.LINE_AA)
    for part in range(skeleton.num_parts):
        if visible[part]:
            centre = tuple(map(int, points[part]))
            cv2.circle(canvas, centre, radius, person_color or skeleton.part_colors[part], -1, cv2.LINE_AA)
            if person_color is not None:
                cv2.circle(canvas, centre, radius, (0, 0, 0), 1, cv2.LINE_AA)


def _draw_label(canvas: np.ndarray, person: Person, text: str, color: Color, font_scale: float) -> None:
    """A filled box in ``color`` with ``text`` in black or white (whichever reads better) above
    the person's box, moved inside the image when it would leave it."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    text_thickness = max(1, round(font_scale * 1.5))
    (text_w, text_h), baseline = cv2.getTextSize(text, font, font_scale, text_thickness)
    pad = max(2, text_h // 4)
    x1, y1, _, _ = person.box
    height, width = canvas.shape[:2]
    left = int(min(max(x1, 0), max(width - text_w - 2 * pad, 0)))
    top = int(min(max(y1 - text_h - baseline - 2 * pad - 4, 0), max(height - text_h - baseline - 2 * pad, 0)))
    bottom, right = top + text_h + baseline + 2 * pad, left + text_w + 2 * pad
    cv2.rectangle(canvas, (left, top), (right, bottom), tuple(int(c) for c in color), -1)
    b, g, r = color
    text_color = (0, 0, 0) if 0.114 * b + 0.587 * g + 0.299 * r > 140 else (255, 255, 255)
    cv2.putText(canvas, text, (left + pad, bottom - baseline - pad), font, font_scale, text_color, text_thickness, cv2.LINE_AA)

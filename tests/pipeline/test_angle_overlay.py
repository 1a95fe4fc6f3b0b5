"""Angles drawn on the video (the overlay_angles option): the arc spans the flexion at the joint,
the panel lists the values, sizes follow the picture (480p and 4K), the option is checked, and
the real pipeline draws it (a PNG of a frame goes to test-artifacts/workers/ to look at)."""
from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from pose.skeleton import PART_NAMES
from skeleton_poses import P, final_rows, side_view
from pipeline.angle_overlay import AngleOverlay, short_label
from pipeline.frames import frame_people
from pipeline.options import PipelineOptions
from pipeline.people_exports import write_people_exports


def scene(tmp_path: Path, scale: float) -> tuple[AngleOverlay, list, np.ndarray]:
    """One person facing right, knee bent 90 degrees, scaled to a picture ``scale`` x 480 high."""
    kp = side_view(knee=90.0, origin=(300.0, 250.0))
    kp[:, :2] *= scale
    rows = final_rows({1: [(0, kp), (1, kp)]}, fps=30.0)
    write_people_exports(rows, fps=30.0, video={"width": int(854 * scale), "height": int(480 * scale)},
                         out_dir=tmp_path)
    overlay = AngleOverlay.from_exports(tmp_path, ("right_knee", "right_hip"), PART_NAMES)
    return overlay, frame_people(rows[rows["seq"] == 0]), kp


@pytest.mark.parametrize("scale", [1.0, 4.5])  # 480p and 4K (2160 lines)
def test_the_arc_spans_the_flexion_and_the_panel_says_the_values(tmp_path: Path, scale: float) -> None:
    overlay, people, kp = scene(tmp_path, scale)
    assert overlay.names == ["right_knee", "right_hip"]
    assert overlay.values[(1, 0)] == {"right_knee": 90.0, "right_hip": 0.0}
    image = np.zeros((int(480 * scale), int(854 * scale), 3), np.uint8)
    overlay.draw(image, 0, people)
    knee, hip, ankle = (kp[P[n], :2].astype(float) for n in ("right_knee", "right_hip", "right_ankle"))
    # Inside the arc: between the thigh carried on through the knee (straight down) and the shank
    # (pointing back, to the image's left), a little away from the knee; the other side is empty.
    along = (knee - hip) / np.linalg.norm(knee - hip)
    back = (ankle - knee) / np.linalg.norm(ankle - knee)
    inside = knee + (along + back) / np.sqrt(2) * 10 * scale
    outside = knee - (along + back) / np.sqrt(2) * 10 * scale
    assert image[int(inside[1]), int(inside[0])].max() > 0
    assert image[int(outside[1]), int(outside[0])].max() == 0
    # The panel to the person's right: a bordered box with text; its size follows the picture.
    right_of = image[:, int(kp[:, 0].max()) + 2:]
    lit = np.argwhere(right_of.max(axis=2) > 0)
    height = lit[:, 0].max() - lit[:, 0].min()
    assert 40 * scale < height < 160 * scale


def test_the_option_is_checked(tmp_path: Path) -> None:
    assert PipelineOptions().overlay_angle_names() == ()
    assert PipelineOptions.from_mapping({"overlay_angles": "all"}).overlay_angle_names() is None
    assert PipelineOptions.from_mapping({"overlay_angles": "Right knee, left_elbow"}).overlay_angle_names() == (
        "right_knee", "left_elbow")
    with pytest.raises(ValueError, match="joint angles only; trunk is a segment angle"):
        PipelineOptions.from_mapping({"overlay_angles": "right_knee, trunk"})
    with pytest.raises(ValueError, match="unknown angle 'knees'"):
        PipelineOptions.from_mapping({"overlay_angles": "knees"})
    assert short_label("left_shoulder") == "L shoulder"


@pytest.mark.model
def test_the_pipeline_draws_the_angles(videos_dir: Path, model_path: Path, tmp_path: Path,
                                       artifacts_dir: Path) -> None:
    from videoio import VideoReader
    from pipeline.video import process_video

    clip = videos_dir / "sports2d_demo.mp4"
    plain, drawn = tmp_path / "plain", tmp_path / "drawn"
    for out, overlay in ((plain, ""), (drawn, "all")):
        process_video(clip, out, PipelineOptions(net_height=184, start_s=5.0, end_s=5.4, overlay_angles=overlay),
                      model_path=model_path)
    frames = []
    for out in (plain, drawn):
        with VideoReader(out / "annotated.mp4") as reader:
            frames.append(next(iter(reader)).image)
    differ = np.abs(frames[0].astype(int) - frames[1].astype(int)).max(axis=2) > 40
    assert differ.sum() > 2000  # arcs, numbers and a panel, not noise
    (artifacts_dir / "workers").mkdir(exist_ok=True)
    cv2.imwrite(str(artifacts_dir / "workers" / "19-angles-overlay.png"), frames[1])
    assert math.isfinite(float(differ.mean()))

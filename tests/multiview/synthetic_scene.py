"""A synthetic scene for the multi-view tests: people walking, seen through the real demo
calibration (imported by name: pytest puts this folder on sys.path).

People are OpenPose-18 skeletons (metres, world Z up) walking past the point the four cameras
look at, legs and arms swinging; each view sees them projected through its real camera (with
its distortion), with a little pixel noise, as the 2D pipeline would give them: one row per
person per frame, confidence 0.8, a 2D track ID per person.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from multiview.calibration import read_calibration
from multiview.check import check_calibration
from multiview.views import ViewKeypoints
from pose.skeleton import OPENPOSE_18

PARTS = OPENPOSE_18.part_names
# A standing adult facing +x, metres (x forward, y left, z up), in OpenPose-18 order.
TEMPLATE = np.array([
    [0.10, 0.00, 1.65], [0.00, 0.00, 1.50], [0.00, -0.20, 1.45], [0.00, -0.25, 1.17], [0.05, -0.27, 0.92],
    [0.00, 0.20, 1.45], [0.00, 0.25, 1.17], [0.05, 0.27, 0.92], [0.00, -0.10, 0.95], [0.02, -0.10, 0.52],
    [0.00, -0.10, 0.08], [0.00, 0.10, 0.95], [0.02, 0.10, 0.52], [0.00, 0.10, 0.08], [0.08, -0.03, 1.68],
    [0.08, 0.03, 1.68], [0.02, -0.07, 1.66], [0.02, 0.07, 1.66]])
FPS = 60.0
SIZE = (1080, 1920)


def demo_cameras(shared_data: Path):
    calib = shared_data / "multiview" / "pose2sim_single" / "Calib.qca.txt"
    names = [f"cam0{i}.mp4" for i in range(1, 5)]
    return check_calibration(read_calibration(calib), names, [SIZE] * 4).cameras


def walking(frames: int, start: tuple[float, float], velocity: tuple[float, float], phase: float = 0.0) -> np.ndarray:
    """``(F, 18, 3)`` one person walking from ``start`` (x, y) with ``velocity`` (m/s)."""
    t = np.arange(frames) / FPS
    out = np.repeat(TEMPLATE[None], frames, axis=0).copy()
    swing = 0.25 * np.sin(2 * np.pi * 0.9 * t + phase)
    index = {n: i for i, n in enumerate(PARTS)}
    for side, sign in (("right", 1.0), ("left", -1.0)):
        out[:, index[f"{side}_knee"], 0] += sign * swing * 0.5
        out[:, index[f"{side}_ankle"], 0] += sign * swing
        out[:, index[f"{side}_ankle"], 2] += 0.08 * np.clip(sign * np.cos(2 * np.pi * 0.9 * t + phase), 0, None)
        out[:, index[f"{side}_wrist"], 0] -= sign * swing * 0.8
        out[:, index[f"{side}_elbow"], 0] -= sign * swing * 0.4
    out[:, :, 0] += start[0] + velocity[0] * t[:, None]
    out[:, :, 1] += start[1] + velocity[1] * t[:, None]
    return out


def three_people(frames: int = 90) -> list[np.ndarray]:
    return [walking(frames, (-1.6, -0.6), (0.8, 0.0)),
            walking(frames, (-0.3, 0.6), (-0.6, 0.2), phase=1.0),
            walking(frames, (-1.2, 0.9), (0.3, -0.5), phase=2.0)]


def project_views(cameras, people: list[np.ndarray], *, noise_px: float = 1.0, seed: int = 0,
                  visible=None) -> list[ViewKeypoints]:
    """Each camera's ViewKeypoints of ``people``; ``visible(view, person) -> bool`` leaves people
    out of views."""
    rng = np.random.default_rng(seed)
    frames = len(people[0])
    views = []
    for v, cam in enumerate(cameras):
        per_frame, ids = [], []
        for f in range(frames):
            rows, tids = [], []
            for p, person in enumerate(people):
                if visible is not None and not visible(v, p):
                    continue
                uv = cam.project(person[f]) + rng.normal(0.0, noise_px, (len(PARTS), 2))
                inside = (uv[:, 0] >= 0) & (uv[:, 0] < SIZE[0]) & (uv[:, 1] >= 0) & (uv[:, 1] < SIZE[1])
                row = np.zeros((len(PARTS), 3))
                row[inside, :2] = uv[inside]
                row[inside, 2] = 0.8
                if inside.sum() >= 4:
                    rows.append(row)
                    tids.append(p + 1)
            per_frame.append(np.array(rows).reshape(-1, len(PARTS), 3))
            ids.append(np.array(tids, dtype=np.int64))
        views.append(ViewKeypoints(f"cam0{v + 1}.mp4", FPS, SIZE, PARTS, tuple(per_frame), tuple(ids)))
    return views

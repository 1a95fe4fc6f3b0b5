"""The files of a multi-view result (all in metres, in the calibration's world frame, Z up).

- ``keypoints_3d.csv``: tidy, one row per person, frame and part present: ``frame, time_s,
  person, joint, x_m, y_m, z_m, reprojection_px, views, interpolated`` (``x_m..z_m`` smoothed;
  ``reprojection_px`` the mean reprojection error over the views used, empty where filled in;
  ``views`` the cameras used, names joined by ``+``; ``interpolated`` 1 where filled in).
- ``angles_3d.csv``: ``frame, time_s, person, angle, degrees, interpolated`` (:mod:`multiview.angles3d`).
- ``people/person_<id>.trc``: OpenSim markers in metres, **Y up**: OpenSim's (X, Y, Z) are the
  world's (y, z, x), the rotation Pose2Sim applies (``zup2yup``): a cyclic change of axes, so
  the skeleton is not mirrored.
- ``people/person_<id>_angles_3d.mot``: the person's 3D angles, degrees, OpenSim's motion format.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Sequence

import numpy as np

from analysis.opensim import write_mot, write_trc
from multiview.angles3d import compute_angles_3d
from multiview.tracks3d import Person3D

KEYPOINTS_3D_CSV = "keypoints_3d.csv"
ANGLES_3D_CSV = "angles_3d.csv"
CSV_COLUMNS = ("frame", "time_s", "person", "joint", "x_m", "y_m", "z_m", "reprojection_px", "views", "interpolated")
ANGLE_COLUMNS = ("frame", "time_s", "person", "angle", "degrees", "interpolated")
#: World (Z up) -> OpenSim (Y up): OpenSim X, Y, Z = world y, z, x.
ZUP_TO_YUP = (1, 2, 0)


def view_names(mask: int, cameras: Sequence[str]) -> str:
    return "+".join(name for v, name in enumerate(cameras) if mask >> v & 1)


def write_keypoints_csv(path: Path, people: Sequence[Person3D], *, part_names: Sequence[str],
                        cameras: Sequence[str], fps: float) -> int:
    """Write ``keypoints_3d.csv``; returns the rows written."""
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(CSV_COLUMNS)
        for p in people:
            for i, frame in enumerate(p.frames):
                for j, joint in enumerate(part_names):
                    x, y, z = p.points[i, j]
                    if not np.isfinite(x):
                        continue
                    filled = bool(p.interpolated[i, j])
                    err = p.error_px[i, j]
                    out.writerow([int(frame), f"{frame / fps:.6f}", p.person, joint, f"{x:.5f}", f"{y:.5f}", f"{z:.5f}",
                                  "" if filled or not np.isfinite(err) else f"{err:.2f}",
                                  "" if filled else view_names(int(p.views[i, j]), cameras), int(filled)])
                    rows += 1
    return rows


def person_angles(p: Person3D, part_names: Sequence[str]) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """``(names, degrees (F, A), interpolated (F, A))`` of one person."""
    names, degrees = compute_angles_3d(p.points, part_names)
    # an angle is flagged where any part (of the few an angle uses) was filled in
    filled = np.repeat(p.interpolated.any(axis=1, keepdims=True), len(names), axis=1)
    return names, degrees, filled


def write_angles(out_dir: Path, people: Sequence[Person3D], *, part_names: Sequence[str], fps: float) -> list[str]:
    """Write ``angles_3d.csv`` and each person's ``.mot``; returns the files (relative)."""
    files = [ANGLES_3D_CSV]
    (out_dir / "people").mkdir(exist_ok=True)
    with open(out_dir / ANGLES_3D_CSV, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(ANGLE_COLUMNS)
        for p in people:
            names, degrees, filled = person_angles(p, part_names)
            for i, frame in enumerate(p.frames):
                for a, name in enumerate(names):
                    if np.isfinite(degrees[i, a]):
                        out.writerow([int(frame), f"{frame / fps:.6f}", p.person, name, f"{degrees[i, a]:.2f}",
                                      int(filled[i, a])])
            rel = f"people/person_{p.person}_angles_3d.mot"
            write_mot(out_dir / rel, times_s=p.frames / fps, columns=names, values=degrees,
                      name=f"person_{p.person}_angles_3d", notes=("3D joint angles (multiview.angles3d)",))
            files.append(rel)
    return files


def write_trcs(out_dir: Path, people: Sequence[Person3D], *, markers: Sequence[str], fps: float) -> list[str]:
    """Each person's ``.trc`` (metres, Y up; module docstring); returns the files (relative)."""
    (out_dir / "people").mkdir(exist_ok=True)
    files = []
    for p in people:
        rel = f"people/person_{p.person}.trc"
        write_trc(out_dir / rel, frame_numbers=p.frames + 1, times_s=p.frames / fps, markers=markers,
                  positions=p.points[:, :, ZUP_TO_YUP], rate_hz=fps, units="m")
        files.append(rel)
    return files

"""Does a calibration fit the videos it comes with? Checked before any video is analysed.

- every video has a camera: views are matched to cameras by name (a video ``cam01.mp4`` or
  ``cam01_anything.mp4`` to camera ``cam01``; Pose2Sim writes ``cam_01`` for Qualisys' ``cam01``,
  so separators and zero padding are ignored), or, when no name matches, in order when the
  counts agree;
- the camera's image size is the video's: a codec's padding to whole 16-pixel macroblocks is
  accepted (Pose2Sim's demo: calibrated 1088 wide, the videos 1080), a size that differs more,
  or a rotated one, is an error naming the camera;
- the model is sane: a rotation that is a rotation, positive focal lengths, a principal point
  inside the image, every camera's centre apart from the others, and the scene the cameras look
  at (the point nearest to all their optical axes) in front of every camera and inside its image.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from multiview.camera import Camera
from multiview.errors import CalibrationError

#: A video may be this many pixels smaller or larger than its camera's calibrated size per side
#: (codecs pad to 16-pixel macroblocks); the principal point is kept (the origin is the top-left).
SIZE_SLACK_PX = 16
#: Cameras closer together than this (metres) are the same camera twice.
MIN_CAMERA_DISTANCE_M = 0.01


@dataclass(frozen=True)
class CheckedCalibration:
    """cameras: one per view, in the views' order (sized as the views); warnings: what was
    accepted but should be known; scene_centre: the point the cameras look at (metres)."""

    cameras: tuple[Camera, ...]
    warnings: tuple[str, ...]
    scene_centre: np.ndarray


def camera_key(name: str) -> str:
    """A name reduced for matching: lower case, no separators, no zero padding of numbers."""
    parts = re.findall(r"[a-z]+|\d+", name.lower())
    return "".join(str(int(p)) if p.isdigit() else p for p in parts)


def match_views(cameras: Sequence[Camera], view_names: Sequence[str]) -> list[Camera]:
    """The camera of each view (by name; see the module docstring)."""
    by_key = {camera_key(c.name): c for c in cameras}
    matched: list[Camera | None] = []
    for view in view_names:
        stem = view.rsplit(".", 1)[0]
        key = camera_key(stem)
        found = by_key.get(key)
        if found is None:  # "cam01_trial1" -> the longest camera key that starts the name
            prefixes = [k for k in by_key if key.startswith(k)]
            found = by_key[max(prefixes, key=len)] if prefixes else None
        matched.append(found)
    if all(m is not None for m in matched):
        if len({id(m) for m in matched}) != len(matched):
            raise CalibrationError("two videos are matched to the same camera: name each video after its "
                                   f"camera ({', '.join(c.name for c in cameras)})")
        return list(matched)  # type: ignore[arg-type]
    if not any(m is not None for m in matched) and len(cameras) == len(view_names):
        return list(cameras)  # no names to go by: in order
    missing = [v for v, m in zip(view_names, matched) if m is None]
    raise CalibrationError(
        f"no camera in the calibration for {', '.join(missing)}: the calibration has "
        f"{', '.join(c.name for c in cameras)}; name each video after its camera (e.g. {cameras[0].name}.mp4)")


def check_calibration(cameras: Sequence[Camera], view_names: Sequence[str],
                      view_sizes: Sequence[tuple[int, int]]) -> CheckedCalibration:
    """Match the views to cameras and check that they fit (module docstring). Raises
    CalibrationError naming the camera at fault."""
    chosen = match_views(cameras, view_names)
    warnings = []
    sized = []
    for cam, view, (w, h) in zip(chosen, view_names, view_sizes):
        cw, ch = cam.size
        if (cw, ch) != (w, h):
            if abs(cw - w) <= SIZE_SLACK_PX and abs(ch - h) <= SIZE_SLACK_PX:
                warnings.append(f"camera {cam.name} is calibrated at {cw}x{ch} and {view} is {w}x{h}: "
                                "taken as the codec's padding (the same pixels, cropped)")
            elif (cw, ch) == (h, w) or (abs(cw - h) <= SIZE_SLACK_PX and abs(ch - w) <= SIZE_SLACK_PX):
                raise CalibrationError(f"camera {cam.name} is calibrated at {cw}x{ch} but {view} is {w}x{h}: "
                                       "the video is turned a quarter; calibrate the upright video")
            else:
                raise CalibrationError(f"camera {cam.name} is calibrated at {cw}x{ch} but {view} is {w}x{h}: "
                                       "this calibration is not for this video")
        _check_model(cam)
        sized.append(cam.with_size((w, h)))
    centre = _check_geometry(sized)
    return CheckedCalibration(tuple(sized), tuple(warnings), centre)


def _check_model(cam: Camera) -> None:
    R, K = np.asarray(cam.R), np.asarray(cam.K)
    if not (np.all(np.isfinite(R)) and np.allclose(R @ R.T, np.eye(3), atol=1e-4)
            and abs(np.linalg.det(R) - 1) < 1e-4):
        raise CalibrationError(f"camera {cam.name}: its rotation is not a rotation")
    if not np.all(np.isfinite(cam.t)) or not np.all(np.isfinite(cam.dist)):
        raise CalibrationError(f"camera {cam.name}: its translation or distortion is not finite")
    w, h = cam.size
    if not (K[0, 0] > 0 and K[1, 1] > 0):
        raise CalibrationError(f"camera {cam.name}: its focal lengths must be positive, got {K[0, 0]:g}, {K[1, 1]:g}")
    if not (0 <= K[0, 2] <= w and 0 <= K[1, 2] <= h):
        raise CalibrationError(f"camera {cam.name}: its principal point ({K[0, 2]:.0f}, {K[1, 2]:.0f}) is "
                               f"outside its {w}x{h} image: wrong units or the wrong image size")


def _check_geometry(cameras: Sequence[Camera]) -> np.ndarray:
    centres = np.array([c.centre for c in cameras])
    for i in range(len(cameras)):
        for j in range(i + 1, len(cameras)):
            if np.linalg.norm(centres[i] - centres[j]) < MIN_CAMERA_DISTANCE_M:
                raise CalibrationError(f"cameras {cameras[i].name} and {cameras[j].name} are at the same place: "
                                       "the same camera twice, or a calibration without extrinsics")
    scene = looked_at(cameras)
    if len(cameras) < 2:
        return scene
    for cam in cameras:
        depth = cam.to_camera(scene)[2]
        uv = cam.project(scene)
        w, h = cam.size
        if not depth > 0 or not (-0.5 * w <= uv[0] <= 1.5 * w and -0.5 * h <= uv[1] <= 1.5 * h):
            raise CalibrationError(
                f"camera {cam.name} does not look at the scene the other cameras look at (their common point "
                f"projects to {_where(uv, depth)} in its {w}x{h} image): its rotation or position is wrong "
                "(e.g. millimetres taken for metres, or a world-to-camera transform read the other way)")
    return scene


def _where(uv: np.ndarray, depth: float) -> str:
    if not depth > 0:
        return "behind it"
    return f"({uv[0]:.0f}, {uv[1]:.0f})"


def looked_at(cameras: Sequence[Camera]) -> np.ndarray:
    """The point nearest (least squares) to every camera's optical axis, metres ``(3,)``."""
    A = np.zeros((3, 3))
    b = np.zeros(3)
    for cam in cameras:
        d = cam.axis
        P = np.eye(3) - np.outer(d, d)
        A += P
        b += P @ cam.centre
    if len(cameras) < 2 or np.linalg.cond(A) > 1e8:
        return cameras[0].centre + cameras[0].axis
    return np.linalg.solve(A, b)

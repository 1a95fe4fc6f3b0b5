"""Reading and writing calibrations: Pose2Sim's ``Calib.toml`` and Qualisys ``.qca.txt``.

``Calib.toml`` (Pose2Sim, OpenCV conventions; the community's common format): one table per
camera with ``name``, ``size = [width, height]`` (pixels), ``matrix`` (K, 3x3), ``distortions``
``[k1, k2, p1, p2]``, ``rotation`` (Rodrigues vector, world -> camera), ``translation`` (metres,
world -> camera) and ``fisheye``; a ``[metadata]`` table that is not a camera.

Qualisys ``.qca.txt`` (XML, as QTM exports it), per ``<camera serial=...>``:
- ``<transform>``: the camera's position ``x, y, z`` in **millimetres** in the world frame, and a
  rotation ``r11..r33`` whose rows are the camera's axes in the world frame, Qualisys' camera
  frame having y up and looking along -z. It is turned into OpenCV's (y down, looking along +z)
  by a half turn about the camera's x axis: ``R = diag(1, -1, -1) @ M``, ``t = -R @ position``
  (what Pose2Sim's ``calib_qca_fun`` does).
- ``<intrinsic>``: focal lengths and principal point in **sensor units**, 64 per pixel; the
  principal point relative to the video's field of view (``fov_video`` left, top).
- distortion coefficients: divided by 64 as Pose2Sim does (its demo's Calib.toml is made so).
- ``<fov_video>``: the image size, ``right - left + 1`` by ``bottom - top + 1``.
- ``viewrotation`` (0, 90, 180, 270): the video is the sensor's image turned clockwise by that
  many degrees; the camera is turned to match (K, size and R), so points are in the upright video.

:func:`read_calibration` tells the two apart by content, not by name.
"""
from __future__ import annotations

import math
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Sequence

import numpy as np

from multiview.camera import Camera
from multiview.errors import CalibrationError

SENSOR_UNITS_PER_PIXEL = 64.0
_FLIP_YZ = np.diag([1.0, -1.0, -1.0])


def read_calibration(path: Path) -> list[Camera]:
    """The cameras of the calibration at ``path`` (Calib.toml or Qualisys .qca.txt), in the
    file's order. Raises CalibrationError for a file that is neither or is incomplete."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CalibrationError(f"cannot read the calibration {path.name}: {exc.strerror or exc}") from None
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
    if text.startswith("<"):
        return parse_qca(text, source=path.name)
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise CalibrationError(
            f"{path.name}: not a calibration this reads: expected Pose2Sim's Calib.toml or a Qualisys "
            ".qca.txt (XML)") from None
    return parse_toml(table, source=path.name)


def parse_toml(table: dict, *, source: str = "Calib.toml") -> list[Camera]:
    """Cameras from a parsed Pose2Sim Calib.toml ``table``."""
    cameras = []
    for key, section in table.items():
        if key == "metadata" or not isinstance(section, dict):
            continue
        name = str(section.get("name", key))
        try:
            width, height = (int(round(float(v))) for v in section["size"])
            K = np.array(section["matrix"], dtype=np.float64).reshape(3, 3)
            dist = np.array(section.get("distortions", [0, 0, 0, 0]), dtype=np.float64).reshape(-1)
            rvec = np.array(section["rotation"], dtype=np.float64).reshape(-1)
            t = np.array(section["translation"], dtype=np.float64).reshape(3)
        except KeyError as exc:
            raise CalibrationError(f"{source}: camera {name!r} has no {exc.args[0]!r}") from None
        except (TypeError, ValueError):
            raise CalibrationError(f"{source}: camera {name!r}: size, matrix, distortions, rotation or "
                                   "translation is not a list of numbers of the right length") from None
        R = _rotation(rvec, name, source)
        cameras.append(Camera(name, (width, height), K, dist, R, t, bool(section.get("fisheye", False))))
    if not cameras:
        raise CalibrationError(f"{source}: no camera in the calibration (Pose2Sim's Calib.toml has one "
                               "table per camera)")
    return cameras


def _rotation(rvec: np.ndarray, name: str, source: str) -> np.ndarray:
    import cv2

    if rvec.size == 3:
        return cv2.Rodrigues(rvec.reshape(3, 1))[0]
    if rvec.size == 9:
        return rvec.reshape(3, 3)
    raise CalibrationError(f"{source}: camera {name!r}: rotation must be a Rodrigues vector (3 numbers) "
                           "or a 3x3 matrix")


def parse_qca(text: str, *, source: str = "calibration.qca.txt") -> list[Camera]:
    """Cameras from the XML text of a Qualisys .qca.txt calibration (see the module docstring)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise CalibrationError(f"{source}: not well-formed XML ({exc})") from None
    cameras = []
    for index, node in enumerate(root.findall("cameras/camera")):
        name = node.get("serial") or f"camera{index + 1}"
        try:
            cameras.append(_qca_camera(node, name))
        except (TypeError, ValueError, AttributeError):
            raise CalibrationError(f"{source}: camera {name!r}: its transform, intrinsic or fov_video is "
                                   "missing or not numeric") from None
    if not cameras:
        raise CalibrationError(f"{source}: no <cameras><camera> in this Qualisys calibration")
    return cameras


def _qca_camera(node: ET.Element, name: str) -> Camera:
    fov = node.find("fov_video")
    left, top = float(fov.get("left")), float(fov.get("top"))
    width = int(round(float(fov.get("right")) - left + 1))
    height = int(round(float(fov.get("bottom")) - top + 1))
    intr = node.find("intrinsic")
    f = lambda key: float(intr.get(key, "0"))  # noqa: E731
    K = np.array([[f("focalLengthU") / SENSOR_UNITS_PER_PIXEL, 0.0, f("centerPointU") / SENSOR_UNITS_PER_PIXEL - left],
                  [0.0, f("focalLengthV") / SENSOR_UNITS_PER_PIXEL, f("centerPointV") / SENSOR_UNITS_PER_PIXEL - top],
                  [0.0, 0.0, 1.0]])
    dist = np.array([f("radialDistortion1"), f("radialDistortion2"), f("tangentalDistortion1"),
                     f("tangentalDistortion2")]) / SENSOR_UNITS_PER_PIXEL
    tr = node.find("transform")
    M = np.array([[float(tr.get(f"r{i}{j}")) for j in (1, 2, 3)] for i in (1, 2, 3)])
    position = np.array([float(tr.get(axis)) for axis in "xyz"]) / 1000.0
    R = _FLIP_YZ @ M
    t = -R @ position
    camera = Camera(name, (width, height), K, dist, R, t)
    rotation = int(float(node.get("viewrotation", "0") or 0)) % 360
    if rotation % 90:
        raise ValueError(rotation)
    return rotate_view(camera, rotation)


def rotate_view(camera: Camera, degrees_clockwise: int) -> Camera:
    """The camera whose image is ``camera``'s turned clockwise by 0, 90, 180 or 270 degrees."""
    w, h = camera.size
    K, R, dist = camera.K.copy(), camera.R.copy(), camera.dist.astype(np.float64).copy()
    for _ in range((degrees_clockwise // 90) % 4):
        # a quarter turn clockwise: (u, v) -> (h - 1 - v, u); image size (w, h) -> (h, w)
        fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
        K = np.array([[fy, 0.0, h - 1 - cy], [0.0, fx, cx], [0.0, 0.0, 1.0]])
        R = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]) @ R
        if len(dist) >= 4:  # tangential terms follow the axes: x' = -y, y' = x
            dist[2], dist[3] = dist[3], -dist[2]
        w, h = h, w
    t = R @ camera.centre * -1.0
    return Camera(camera.name, (w, h), K, dist, R, t, camera.fisheye)


def toml_text(cameras: Sequence[Camera], *, error_px: float | None = None) -> str:
    """Pose2Sim's Calib.toml for ``cameras`` (one table per camera, then ``[metadata]``)."""
    lines: list[str] = []
    for cam in cameras:
        key = _toml_key(cam.name)
        lines += [
            f"[{key}]",
            f"name = {_toml_string(cam.name)}",
            f"size = [ {float(cam.size[0])!r}, {float(cam.size[1])!r},]",
            "matrix = [ " + " ".join(f"[ {', '.join(_num(v) for v in row)},]," for row in cam.K) + "]",
            f"distortions = [ {', '.join(_num(v) for v in cam.dist)},]",
            f"rotation = [ {', '.join(_num(v) for v in cam.rvec)},]",
            f"translation = [ {', '.join(_num(v) for v in cam.t)},]",
            f"fisheye = {'true' if cam.fisheye else 'false'}",
            "",
        ]
    lines += ["[metadata]", "adjusted = false", f"error = {_num(error_px or 0.0)}", ""]
    return "\n".join(lines)


def write_toml(path: Path, cameras: Sequence[Camera], *, error_px: float | None = None) -> None:
    """Write ``cameras`` to ``path`` as Pose2Sim's Calib.toml (:func:`toml_text`)."""
    Path(path).write_text(toml_text(cameras, error_px=error_px), encoding="utf-8")


def _num(value: float) -> str:
    value = float(value)
    if not math.isfinite(value):
        raise CalibrationError(f"a calibration value is not finite ({value})")
    return repr(value)


def _toml_key(name: str) -> str:
    if name and all(ch.isalnum() or ch in "_-" for ch in name):
        return name
    return _toml_string(name)


def _toml_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(ch if ch >= " " else f"\\u{ord(ch):04x}" for ch in escaped)
    return f'"{escaped}"'

"""One calibrated camera: the pinhole model with OpenCV's distortion, as Pose2Sim's Calib.toml
holds it.

Conventions (OpenCV's): a world point ``X`` (metres, the calibration's world frame) is at
``R @ X + t`` in the camera's frame (x right, y down, z forward along the optical axis), then
projected with the intrinsic matrix ``K`` (pixels) and the distortion coefficients
``(k1, k2, p1, p2[, k3])``. Image points are pixels of the upright frame (x right, y down, origin
at the centre of the top-left pixel), as everywhere in this project.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np


@dataclass(frozen=True, eq=False)
class Camera:
    """name: the camera's name in the calibration (``cam01``); size: image (width, height) in
    pixels; K: ``(3, 3)``; dist: ``(4,)`` or ``(5,)``; R: ``(3, 3)`` world -> camera rotation;
    t: ``(3,)`` world -> camera translation in metres."""

    name: str
    size: tuple[int, int]
    K: np.ndarray
    dist: np.ndarray
    R: np.ndarray
    t: np.ndarray
    fisheye: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def centre(self) -> np.ndarray:
        """The camera's optical centre in world coordinates, metres ``(3,)``."""
        return -self.R.T @ self.t

    @property
    def axis(self) -> np.ndarray:
        """The optical axis (unit vector, world frame) the camera looks along."""
        return self.R[2].copy()

    @property
    def rvec(self) -> np.ndarray:
        """R as a Rodrigues vector ``(3,)`` (Calib.toml's ``rotation``)."""
        return cv2.Rodrigues(np.asarray(self.R, dtype=np.float64))[0].reshape(3)

    @property
    def projection(self) -> np.ndarray:
        """``P = K [R | t]`` ``(3, 4)``, for distortion-free (undistorted) pixels."""
        return self.K @ np.hstack([self.R, self.t.reshape(3, 1)])

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points ``(..., 3)`` in the camera's frame ``(..., 3)`` (z = depth, metres)."""
        points = np.asarray(points, dtype=np.float64)
        return points @ self.R.T + self.t

    def project(self, points: np.ndarray) -> np.ndarray:
        """World points ``(..., 3)`` to distorted pixels ``(..., 2)``; NaN behind the camera
        or where a point is NaN."""
        cam = self.to_camera(points)
        z = cam[..., 2]
        with np.errstate(invalid="ignore", divide="ignore"):
            x, y = cam[..., 0] / z, cam[..., 1] / z
        k = np.zeros(5)
        k[:len(self.dist)] = self.dist[:5]
        k1, k2, p1, p2, k3 = k
        r2 = x * x + y * y
        radial = 1 + k1 * r2 + k2 * r2 * r2 + k3 * r2 ** 3
        xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
        yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
        u = self.K[0, 0] * xd + self.K[0, 1] * yd + self.K[0, 2]
        v = self.K[1, 1] * yd + self.K[1, 2]
        out = np.stack([u, v], axis=-1)
        out[~(z > 0)] = np.nan
        return out

    def undistort(self, pixels: np.ndarray) -> np.ndarray:
        """Distorted pixels ``(N, 2)`` to distortion-free pixels ``(N, 2)`` (same K)."""
        pixels = np.asarray(pixels, dtype=np.float64).reshape(-1, 1, 2)
        if len(pixels) == 0:
            return np.zeros((0, 2))
        if not np.any(self.dist):
            return pixels.reshape(-1, 2).copy()
        out = cv2.undistortPoints(pixels, self.K, self.dist, P=self.K)
        return out.reshape(-1, 2)

    def with_size(self, size: tuple[int, int]) -> "Camera":
        return Camera(self.name, size, self.K, self.dist, self.R, self.t, self.fisheye, dict(self.extra))

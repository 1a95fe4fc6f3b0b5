"""Confidence-weighted DLT triangulation with views left out where they do not agree.

A point seen in V views (distorted pixels and a confidence each) is triangulated by the direct
linear transform on undistorted pixels, each view's two rows weighted by its confidence (as
Pose2Sim's ``weighted_triangulation``). Then, while more than :attr:`min_views` views remain:
- a view whose reprojection error is over ``max_reprojection_px`` is left out (the worst first);
- views that see the point only at a **grazing angle** are left out: the rays of two views that
  meet at less than ``min_ray_angle_deg`` carry one view's worth of depth, so a point whose
  views' rays all lie within that angle of each other has no depth and is not triangulated.
Every point keeps the views used (a bit mask) and its reprojection error (the mean over those
views, pixels).

Shapes: ``pixels`` ``(N, V, 2)``, ``confidence`` ``(N, V)`` (0 = not seen in that view).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from multiview.camera import Camera


@dataclass(frozen=True)
class TriangulationSettings:
    """max_reprojection_px: a view further than this from the 3D point is left out (default
    15 px at 1920 high; Pose2Sim's default is 15 too); min_views: fewest views a point needs (2);
    min_ray_angle_deg: the widest angle between the views' rays must be at least this (5);
    min_confidence: 2D points below this confidence are not used (0.1)."""

    max_reprojection_px: float = 15.0
    min_views: int = 2
    min_ray_angle_deg: float = 5.0
    min_confidence: float = 0.1


@dataclass(frozen=True, eq=False)
class Triangulated:
    """points: ``(N, 3)`` metres (NaN = not triangulated); error_px: ``(N,)`` mean reprojection
    error over the views used; views: ``(N,)`` int bit mask of the views used (bit v = view v);
    per_view_error_px: ``(N, V)`` (NaN where the view was not used)."""

    points: np.ndarray
    error_px: np.ndarray
    views: np.ndarray
    per_view_error_px: np.ndarray


def triangulate(cameras: Sequence[Camera], pixels: np.ndarray, confidence: np.ndarray,
                settings: TriangulationSettings = TriangulationSettings()) -> Triangulated:
    """Triangulate N points seen by the V ``cameras`` (module docstring)."""
    pixels = np.asarray(pixels, dtype=np.float64)
    n, v = confidence.shape
    undistorted = np.full_like(pixels, np.nan)
    for i, cam in enumerate(cameras):
        seen = confidence[:, i] > 0
        if seen.any():
            undistorted[seen, i] = cam.undistort(pixels[seen, i])
    P = np.stack([cam.projection for cam in cameras])  # (V, 3, 4)
    centres = np.stack([cam.centre for cam in cameras])
    weight = np.where(confidence >= settings.min_confidence, confidence, 0.0)
    weight[~np.all(np.isfinite(pixels), axis=2)] = 0.0
    points = np.full((n, 3), np.nan)
    errors = np.full((n, v), np.nan)
    active = (weight > 0).sum(axis=1) >= settings.min_views
    for _ in range(v):
        idx = np.flatnonzero(active)
        if len(idx) == 0:
            break
        X = _dlt(P, undistorted[idx], weight[idx])
        err = _reprojection(cameras, X, pixels[idx], weight[idx] > 0)
        points[idx], errors[idx] = X, err
        worst = np.nanargmax(np.where(np.isfinite(err), err, -1.0), axis=1)
        bad = np.nanmax(np.where(np.isfinite(err), err, -1.0), axis=1) > settings.max_reprojection_px
        count = (weight[idx] > 0).sum(axis=1)
        drop = bad & (count > settings.min_views)
        give_up = bad & ~drop
        points[idx[give_up]] = np.nan
        active[idx[give_up]] = False
        weight[idx[drop], worst[drop]] = 0.0
        active[idx[~drop]] = False
    used = (weight > 0) & np.isfinite(points[:, :1])
    narrow = _max_ray_angle_deg(points, centres, used) < settings.min_ray_angle_deg
    points[narrow] = np.nan
    used[narrow] = False
    errors[~used] = np.nan
    masks = (used * (1 << np.arange(v))).sum(axis=1).astype(np.int64)
    mean_err = np.full(n, np.nan)
    has = used.any(axis=1)
    mean_err[has] = np.nanmean(np.where(used, errors, np.nan)[has], axis=1)
    return Triangulated(points, mean_err, masks, errors)


def _dlt(P: np.ndarray, uv: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Weighted DLT for ``(N, V, 2)`` undistorted pixels -> ``(N, 3)``."""
    uv = np.nan_to_num(uv)
    rows_u = uv[:, :, 0:1] * P[None, :, 2, :] - P[None, :, 0, :]  # (N, V, 4)
    rows_v = uv[:, :, 1:2] * P[None, :, 2, :] - P[None, :, 1, :]
    A = np.concatenate([rows_u, rows_v], axis=1) * np.concatenate([weight, weight], axis=1)[:, :, None]
    _, _, vt = np.linalg.svd(A)
    X = vt[:, -1, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        return X[:, :3] / X[:, 3:4]


def _reprojection(cameras: Sequence[Camera], X: np.ndarray, pixels: np.ndarray, seen: np.ndarray) -> np.ndarray:
    err = np.full(seen.shape, np.nan)
    for i, cam in enumerate(cameras):
        proj = cam.project(X)
        d = np.linalg.norm(proj - pixels[:, i], axis=1)
        d[~np.isfinite(d)] = np.inf  # behind the camera: as bad as it gets
        err[:, i] = np.where(seen[:, i], d, np.nan)
    return err


def _max_ray_angle_deg(points: np.ndarray, centres: np.ndarray, used: np.ndarray) -> np.ndarray:
    """The widest angle (degrees) between two used views' rays to each point ``(N,)``."""
    rays = points[:, None, :] - centres[None, :, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        rays /= np.linalg.norm(rays, axis=2, keepdims=True)
    cos = np.einsum("nad,nbd->nab", rays, rays)
    pair = used[:, :, None] & used[:, None, :]
    cos = np.where(pair, cos, 1.0)
    with np.errstate(invalid="ignore"):
        smallest = np.nanmin(np.where(np.isfinite(cos), cos, 1.0), axis=(1, 2))
    return np.degrees(np.arccos(np.clip(smallest, -1.0, 1.0)))


def reproject(cameras: Sequence[Camera], points: np.ndarray) -> np.ndarray:
    """World points ``(..., 3)`` in every camera: ``(V, ..., 2)`` distorted pixels."""
    return np.stack([cam.project(points) for cam in cameras])

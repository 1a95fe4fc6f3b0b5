"""Gap filling within one track: linear interpolation of boxes and keypoints over short gaps.

A gap is a run of frames between two observations of the same person (a whole missing frame,
or one keypoint missing while the person was seen). Gaps of at most ``max_gap_frames`` missing
frames are filled by linear interpolation in time between the observations on either side;
longer ones are left as they are. Every filled value is flagged, so exports can say so.
Frames are 0-based indexes of the processed sequence; boxes x1, y1, x2, y2 pixels; keypoints
x, y pixels and confidence (0 = missing).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tracking.errors import InvalidDetectionsError

#: Default longest gap filled, in seconds (Sports2D and Pose2Sim fill gaps of about this size).
DEFAULT_MAX_GAP_S = 0.5


@dataclass(frozen=True, eq=False)
class FilledTrack:
    """A track after gap filling.

    frames: int64 ``(F,)`` strictly increasing (the observed frames plus the filled ones).
    boxes: float64 ``(F, 4)``.
    keypoints: float64 ``(F, K, 3)`` or ``None`` when none were given.
    interpolated: bool ``(F,)``: True for a frame that was not observed and was filled.
    keypoint_interpolated: bool ``(F, K)`` (or ``None``): True where a keypoint's x, y and
        confidence were interpolated (in a filled frame, or a keypoint missing from an
        observed one). Confidence is interpolated too, so it stays > 0 where filled.
    """

    frames: np.ndarray
    boxes: np.ndarray
    keypoints: np.ndarray | None
    interpolated: np.ndarray
    keypoint_interpolated: np.ndarray | None


def max_gap_frames(max_gap_s: float, fps: float) -> int:
    """The longest gap in frames for ``max_gap_s`` seconds at ``fps`` (rounded down; 0 = no filling)."""
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be > 0, got {fps!r}")
    if not (math.isfinite(max_gap_s) and max_gap_s >= 0):
        raise ValueError(f"max_gap_s must be >= 0 seconds, got {max_gap_s!r}")
    return int(math.floor(max_gap_s * fps + 1e-9))


def fill_gaps(frames: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray | None = None, *,
              max_gap_frames: int) -> FilledTrack:
    """Fill the gaps of one track (see the module docstring).

    frames: ``(F,)`` strictly increasing ints; boxes ``(F, 4)``; keypoints ``(F, K, 3)``.
    max_gap_frames: the most consecutive missing frames filled (>= 0).
    """
    frames = np.asarray(frames, dtype=np.int64).reshape(-1)
    boxes = np.asarray(boxes, dtype=np.float64)
    if max_gap_frames < 0:
        raise ValueError(f"max_gap_frames must be >= 0, got {max_gap_frames!r}")
    if boxes.shape != (len(frames), 4):
        raise InvalidDetectionsError(f"boxes must be ({len(frames)}, 4), got {boxes.shape}")
    if len(frames) > 1 and np.any(np.diff(frames) <= 0):
        raise InvalidDetectionsError("frames must be strictly increasing")
    missing = np.diff(frames) - 1
    added = [np.arange(a + 1, b) for a, b, m in zip(frames[:-1], frames[1:], missing) if 0 < m <= max_gap_frames]
    new_frames = np.concatenate([frames, *added]) if added else frames.copy()
    order = np.argsort(new_frames, kind="stable")
    new_frames = new_frames[order]
    observed = np.isin(new_frames, frames)
    new_boxes = np.empty((len(new_frames), 4))
    for c in range(4):
        new_boxes[:, c] = np.interp(new_frames, frames, boxes[:, c])
    if keypoints is None:
        return FilledTrack(new_frames, new_boxes, None, ~observed, None)
    keypoints = np.asarray(keypoints, dtype=np.float64)
    if keypoints.ndim != 3 or keypoints.shape[0] != len(frames) or keypoints.shape[2] != 3:
        raise InvalidDetectionsError(f"keypoints must be ({len(frames)}, K, 3), got {keypoints.shape}")
    new_kpts = np.zeros((len(new_frames), keypoints.shape[1], 3))
    new_kpts[observed] = keypoints
    flags = np.zeros((len(new_frames), keypoints.shape[1]), dtype=bool)
    for k in range(keypoints.shape[1]):
        _fill_joint(new_frames, new_kpts[:, k], flags[:, k], max_gap_frames)
    return FilledTrack(new_frames, new_boxes, new_kpts, ~observed, flags)


def _fill_joint(frames: np.ndarray, values: np.ndarray, flags: np.ndarray, max_gap: int) -> None:
    """Interpolate one joint's ``(F, 3)`` rows in place where confidence is 0 and the joint was
    seen on both sides within ``max_gap`` missing frames; set ``flags`` there."""
    seen = values[:, 2] > 0
    if seen.sum() < 2:
        return
    known_frames = frames[seen]
    targets = np.flatnonzero(~seen)
    after = np.searchsorted(known_frames, frames[targets])
    inside = (after > 0) & (after < len(known_frames))
    targets, after = targets[inside], after[inside]
    span = known_frames[after] - known_frames[after - 1] - 1
    targets = targets[span <= max_gap]
    if not len(targets):
        return
    for c in range(3):
        values[targets, c] = np.interp(frames[targets], known_frames, values[seen, c])
    flags[targets] = True

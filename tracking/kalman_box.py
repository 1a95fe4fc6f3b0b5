"""One tracked box: SORT's constant-velocity Kalman filter over (cx, cy, s, r).

State ``x`` (7,): centre x, centre y (pixels), area s (pixels^2), aspect r = w/h, and the
velocities of cx, cy and s per frame; r is assumed constant. Measurement (4,): cx, cy, s, r.
The noise settings are those of the SORT reference so that results are comparable.
"""
from __future__ import annotations

import numpy as np
from filterpy.kalman import KalmanFilter

from tracking.boxes import box_to_measurement, state_to_box

_F = np.array([
    [1, 0, 0, 0, 1, 0, 0],
    [0, 1, 0, 0, 0, 1, 0],
    [0, 0, 1, 0, 0, 0, 1],
    [0, 0, 0, 1, 0, 0, 0],
    [0, 0, 0, 0, 1, 0, 0],
    [0, 0, 0, 0, 0, 1, 0],
    [0, 0, 0, 0, 0, 0, 1],
], dtype=np.float64)
_H = np.eye(4, 7, dtype=np.float64)


class KalmanBoxTrack:
    """A box followed by a Kalman filter, with the bookkeeping SORT needs.

    ``hits`` counts matches after the starting detection, ``hit_streak`` consecutive ones
    (reset to 0 after a missed frame), ``time_since_update`` frames since the last match. ``public_id`` stays
    ``None`` until the owning tracker first reports the track.
    """

    def __init__(self, box: np.ndarray) -> None:
        kf = KalmanFilter(dim_x=7, dim_z=4)
        kf.F = _F.copy()
        kf.H = _H.copy()
        kf.R[2:, 2:] *= 10.0
        kf.P[4:, 4:] *= 1000.0  # initial velocities are unobserved: very uncertain
        kf.P *= 10.0
        kf.Q[-1, -1] *= 0.01
        kf.Q[4:, 4:] *= 0.01
        kf.x[:4] = box_to_measurement(box)
        self.kf = kf
        # As in SORT, the detection that starts a track is not counted as a hit.
        self.hits = 0
        self.hit_streak = 0
        self.time_since_update = 0
        self.public_id: int | None = None

    def predict(self) -> np.ndarray:
        """Advance one frame; return the predicted corners ``(4,)`` (NaN if the state degenerated)."""
        if self.kf.x[6, 0] + self.kf.x[2, 0] <= 0:
            self.kf.x[6, 0] = 0.0  # do not let the area shrink below zero
        self.kf.predict()
        if self.time_since_update > 0:
            self.hit_streak = 0
        self.time_since_update += 1
        return self.box()

    def update(self, box: np.ndarray) -> None:
        """Correct the state with a matched detection's corners ``(4,)``."""
        self.time_since_update = 0
        self.hits += 1
        self.hit_streak += 1
        self.kf.update(box_to_measurement(box))

    def box(self) -> np.ndarray:
        """Current state as corners ``(4,)`` float64, pixels."""
        return state_to_box(self.kf.x)

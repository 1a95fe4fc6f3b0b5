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
    ``None`` until the owning tracker first reports the track. ``serial`` numbers every track a
    tracker creates (reported or not). ``last_observation`` is the corners ``(4,)`` of the last
    matched detection; ``keypoints`` ``(K, 3)`` and ``appearance`` ``(B,)`` are what the owning
    tracker keeps of that detection (``None`` when it has none).
    """

    def __init__(self, box: np.ndarray, serial: int = 0) -> None:
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
        self.serial = serial
        self.last_observation = np.asarray(box, dtype=np.float64).copy()
        self.keypoints: np.ndarray | None = None
        self.appearance: np.ndarray | None = None
        self._observed_state = (kf.x.copy(), kf.P.copy())
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

    def update(self, box: np.ndarray, *, reupdate: bool = False) -> None:
        """Correct the state with a matched detection's corners ``(4,)``.

        reupdate: OC-SORT's observation-centric re-update (ORU). When the track was lost for
        ``g > 1`` frames, the state is first rewound to just after its last real observation and
        the filter is run again over the gap on virtual observations on a straight line (in
        centre, width and height) from that observation to this one, so the velocity a coasting
        track accumulated during the occlusion is replaced by the one the two observations imply.
        """
        box = np.asarray(box, dtype=np.float64)
        gap = self.time_since_update
        self.time_since_update = 0
        self.hits += 1
        self.hit_streak += 1
        if reupdate and gap > 1:
            self._rerun_gap(box, gap)
        else:
            self.kf.update(box_to_measurement(box))
        self.last_observation = box.copy()
        self._observed_state = (self.kf.x.copy(), self.kf.P.copy())

    def _rerun_gap(self, box: np.ndarray, gap: int) -> None:
        self.kf.x, self.kf.P = (a.copy() for a in self._observed_state)
        start, end = _centre_size(self.last_observation), _centre_size(box)
        for step in range(1, gap + 1):
            if self.kf.x[6, 0] + self.kf.x[2, 0] <= 0:
                self.kf.x[6, 0] = 0.0
            self.kf.predict()
            cx, cy, w, h = start + (end - start) * (step / gap)
            self.kf.update(box_to_measurement(np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])))

    def displacement_since_observation(self) -> np.ndarray:
        """How far the current state's centre is from the last observation's: dx, dy ``(2,)``
        pixels (used to carry the last keypoints along with the prediction)."""
        return _centre_size(self.box())[:2] - _centre_size(self.last_observation)[:2]

    def box(self) -> np.ndarray:
        """Current state as corners ``(4,)`` float64, pixels."""
        return state_to_box(self.kf.x)


def _centre_size(box: np.ndarray) -> np.ndarray:
    """Corners ``(4,)`` -> centre x, centre y, width, height ``(4,)``."""
    x1, y1, x2, y2 = (float(v) for v in box)
    return np.array([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], dtype=np.float64)

"""Offline stitching: link the end of one tracklet to the start of a later one, then renumber.

An online tracker splits a person into several tracklets when they are hidden longer than its
lost-track buffer or when the detector misses them for a while. With the whole video at hand,
each tracklet's end is compared with every later tracklet's start: the time gap, where the
person should be by then (moving on at the velocity of the tracklet's last second, and back
from the later tracklet's start at the velocity of its first second; the two misses are
averaged), the change in size and, when known, the appearance. A
global assignment (Hungarian method) picks at most one successor and one predecessor per
tracklet, minimising the total cost; a link is made only if it passes every gate and costs less
than ``max_cost``. A link always goes forward in time (the successor starts after the
predecessor's last frame), so no two tracklets of a chain ever overlap in time.

Boxes are x1, y1, x2, y2 pixels; the cost terms are scaled by the people's box height, so the
defaults do not depend on the video's resolution.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from tracking.appearance import histogram_distance
from tracking.tracklet import Tracklet

_FORBIDDEN = 1e9


def stitch_tracklets(tracklets: Sequence[Tracklet], *, fps: float, max_gap_s: float = 3.0,
                     position_tolerance: float = 0.5, speed_tolerance: float = 0.5,
                     max_size_ratio: float = 1.5, max_appearance_distance: float = 0.6,
                     appearance_weight: float = 0.5, velocity_window_s: float = 1.0,
                     max_cost: float = 1.0) -> dict[int, int]:
    """Link tracklets into people; return ``{tracklet track_id: person ID}``, IDs dense from 1.

    fps: frames per second of the processed sequence (frames are counted at this rate).
    max_gap_s: longest gap between a tracklet's last frame and its successor's first (> 0).
    position_tolerance, speed_tolerance: the predicted positions (forward from the end, back
        from the start) may miss the other side by up to ``(position_tolerance +
        speed_tolerance * gap in s) * box height`` on average (the gate); the motion cost is
        the mean miss over that allowance, in [0, 1].
    max_size_ratio: gate on the ratio of the box heights at either side of the gap (>= 1);
        the size cost is ``|log(ratio)| / log(max_size_ratio)``.
    max_appearance_distance: gate on the Hellinger distance of the tracklets' appearance
        vectors, when both have one; the appearance cost is the distance over this gate.
    appearance_weight: weight of the appearance cost beside motion (weight 1) and size (0.5).
    velocity_window_s: the velocity at either end is fitted to the observations of this long.
    max_cost: a link is made only if its cost (the weighted mean of its terms, each in
        [0, 1]) is below this.

    Person IDs are given in order of each chain's first frame (then its first tracklet's ID).
    Keypoints are not used for the cost (they are carried for gap filling).
    """
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be > 0, got {fps!r}")
    if not max_gap_s > 0:
        raise ValueError(f"max_gap_s must be > 0 seconds, got {max_gap_s!r}")
    if not max_size_ratio > 1:
        raise ValueError(f"max_size_ratio must be > 1, got {max_size_ratio!r}")
    ids = [t.track_id for t in tracklets]
    if len(set(ids)) != len(ids):
        raise ValueError("tracklets must have distinct track_id values")
    cost = link_costs(tracklets, fps=fps, max_gap_s=max_gap_s, position_tolerance=position_tolerance,
                      speed_tolerance=speed_tolerance, max_size_ratio=max_size_ratio,
                      max_appearance_distance=max_appearance_distance, appearance_weight=appearance_weight,
                      velocity_window_s=velocity_window_s)
    successor = _assign(cost, max_cost)
    return renumber(tracklets, successor)


def link_costs(tracklets: Sequence[Tracklet], *, fps: float, max_gap_s: float, position_tolerance: float,
               speed_tolerance: float, max_size_ratio: float, max_appearance_distance: float,
               appearance_weight: float, velocity_window_s: float) -> np.ndarray:
    """float64 ``(N, N)``: the cost of linking tracklet ``i``'s end to tracklet ``j``'s start,
    ``inf`` where the link is impossible (overlap, too long a gap) or fails a gate."""
    n = len(tracklets)
    cost = np.full((n, n), np.inf)
    window = max(2, int(round(velocity_window_s * fps)))
    ends = [_end_state(t, window, last=True) for t in tracklets]
    starts = [_end_state(t, window, last=False) for t in tracklets]
    max_gap = max_gap_s * fps
    for i, a in enumerate(tracklets):
        for j, b in enumerate(tracklets):
            gap = b.first_frame - a.last_frame
            if i == j or gap < 1 or gap > max_gap:
                continue
            (pos_a, vel_a, h_a), (pos_b, vel_b, h_b) = ends[i], starts[j]
            height = (h_a + h_b) / 2.0
            forward = np.linalg.norm(pos_a + vel_a * gap - pos_b)
            backward = np.linalg.norm(pos_b - vel_b * gap - pos_a)
            allowance = height * (position_tolerance + speed_tolerance * gap / fps)
            motion = (forward + backward) / 2.0 / allowance
            size = abs(np.log(h_b / h_a)) / np.log(max_size_ratio)
            terms, weights = [motion, size], [1.0, 0.5]
            if a.appearance is not None and b.appearance is not None:
                terms.append(float(histogram_distance(a.appearance, b.appearance)[0, 0]) / max_appearance_distance)
                weights.append(appearance_weight)
            if max(terms) <= 1.0:
                cost[i, j] = float(np.dot(terms, weights) / sum(weights))
    return cost


def _end_state(tracklet: Tracklet, window: int, *, last: bool) -> tuple[np.ndarray, np.ndarray, float]:
    """Centre ``(2,)``, velocity ``(2,)`` pixels/frame and box height at one end of a tracklet,
    from the observations within ``window`` frames of that end (least squares over time)."""
    frames, boxes = tracklet.frames, tracklet.boxes
    edge = frames[-1] if last else frames[0]
    near = np.abs(frames - edge) < window
    t = frames[near].astype(np.float64)
    centres = np.column_stack([(boxes[near, 0] + boxes[near, 2]) / 2, (boxes[near, 1] + boxes[near, 3]) / 2])
    heights = boxes[near, 3] - boxes[near, 1]
    velocity = np.zeros(2)
    if len(t) >= 2 and np.ptp(t) > 0:
        design = np.column_stack([np.ones_like(t), t - edge])
        (intercept, slope), *_ = np.linalg.lstsq(design, centres, rcond=None)
        return intercept, slope, float(max(np.median(heights), 1.0))
    return centres[-1 if last else 0], velocity, float(max(np.median(heights), 1.0))


def _assign(cost: np.ndarray, max_cost: float) -> dict[int, int]:
    """Optimal links ``{i: j}`` where each tracklet may also stay unlinked: the matrix is
    augmented so that leaving a tracklet's end and another's start unlinked costs ``max_cost``
    in all, so a link is chosen only where it costs less."""
    n = len(cost)
    if n == 0 or not np.isfinite(cost).any():
        return {}
    big = np.full((2 * n, 2 * n), _FORBIDDEN)
    big[:n, :n] = np.where(np.isfinite(cost), cost, _FORBIDDEN)
    big[np.arange(n), n + np.arange(n)] = max_cost / 2.0  # end i stays unlinked
    big[n + np.arange(n), np.arange(n)] = max_cost / 2.0  # start j stays unlinked
    big[n:, n:] = 0.0
    rows, cols = linear_sum_assignment(big)
    return {int(i): int(j) for i, j in zip(rows, cols)
            if i < n and j < n and np.isfinite(cost[i, j]) and cost[i, j] < max_cost}


def renumber(tracklets: Sequence[Tracklet], successor: Mapping[int, int] | None = None) -> dict[int, int]:
    """``{tracklet track_id: person ID}`` with IDs 1, 2, ... dense, in order of first frame.

    successor: ``{i: j}`` links between positions in ``tracklets`` (j continues i); linked
    tracklets share the ID of their chain, ordered by the chain's first frame."""
    successor = dict(successor or {})
    has_predecessor = set(successor.values())
    heads = [i for i in range(len(tracklets)) if i not in has_predecessor]
    heads.sort(key=lambda i: (tracklets[i].first_frame, tracklets[i].track_id))
    mapping: dict[int, int] = {}
    for person, head in enumerate(heads, start=1):
        i: int | None = head
        while i is not None:
            mapping[tracklets[i].track_id] = person
            i = successor.get(i)
    return mapping

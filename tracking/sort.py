"""SORT (Simple Online and Realtime Tracking) with per-instance, dense track IDs.

Follows Bewley et al.'s reference ``sort.py`` (Kalman box model, IoU + Hungarian association,
``max_age`` / ``min_hits`` / ``iou_threshold`` semantics), with four differences: track IDs
belong to the :class:`Sort` instance, start at 1 and are issued only when a track is first
reported (so reported IDs have no gaps); :meth:`Sort.reset` starts over; every reported track
says which input row it was matched to in this frame; and a track once reported is reported in
every frame it is matched. The reference hides a track again for ``min_hits`` frames after each
missed frame, which only adds misses: with its default parameters this raises MOTA by 0.0 / 0.6 /
0.6 on TUD-Campus / TUD-Stadtmitte / KITTI-17, and with ``max_age=3`` by 0.5 / 0.6 / 1.1 with IDF1
+2.5 / +3.3 / +3.4 (``bench/mot_eval.py``).

Optional additions, each a keyword argument that is off by default (so the defaults are SORT):
a second association round for low-score detections (ByteTrack), OC-SORT's observation-centric
re-update (ORU) and recovery (OCR), a lost-track buffer in seconds, a skeleton-aware cost
(OKS blended with IoU) and an appearance cue (torso colour histograms), and reporting of
not-yet-confirmed tracks for callers that post-process whole videos.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tracking.association import associate
from tracking.boxes import as_boxes, iou_matrix
from tracking.errors import InvalidDetectionsError
from tracking.kalman_box import KalmanBoxTrack
from tracking.similarity import DEFAULT_KEYPOINT_KAPPA, appearance_similarity, blend, keypoint_similarity


@dataclass(frozen=True, eq=False)
class TrackedObject:
    """One track in one frame (a confirmed one unless the tracker reports unconfirmed ones).

    ``track_id``: 1, 2, 3, ... in the order tracks were first reported by this tracker;
    ``None`` for a track not confirmed yet (only with ``Sort(report_unconfirmed=True)``).
    ``box``: float64 ``(4,)`` x1, y1, x2, y2 pixels, the Kalman estimate after this frame's
    detection (as SORT reports it; take ``boxes[detection_index]`` for the raw detection).
    ``detection_index``: the row of this frame's ``boxes`` the track was matched to (or
    started from). SORT reports only tracks matched in the current frame, so it is always
    set; ``None`` is kept in the type for trackers that also report coasting tracks.
    ``score``: ``scores[detection_index]`` when scores were passed, else ``None``.
    ``serial``: 1, 2, 3, ... for every track the tracker created, confirmed or not, in creation
    order; it links a confirmed track to the frames it was matched in before it got its ID.
    """

    track_id: int | None
    box: np.ndarray
    detection_index: int | None
    score: float | None = None
    serial: int = 0


class Sort:
    """Multi-object tracker; call :meth:`update` once per frame, also for frames with no detections.

    Parameters (defaults are the SORT reference's; every addition is off by default):
        max_age: frames a track survives without a matched detection before it is dropped (>= 0).
        min_hits: a track is reported once it has been matched in this many consecutive frames
            after the detection that started it; during the first ``min_hits`` frames of a
            sequence every matched track is reported at once (>= 0). From then on it is reported
            in every frame it is matched, also after missed frames.
        iou_threshold: the least IoU between a detection and a track's predicted box for them
            to be matched, in [0, 1] (with ``keypoint_weight``, the least blended similarity).
        lost_track_buffer_s, fps: the lost-track buffer in seconds of video at ``fps`` frames per
            second; when given it replaces ``max_age`` by ``round(lost_track_buffer_s * fps)``.
        low_score_threshold: ByteTrack's second round. Detections scoring below it are left out
            of the first association and never start a track; they are matched in a second round,
            by IoU >= ``low_score_iou_threshold`` (default 0.5), to the tracks matched in the
            previous frame that the first round left unmatched. Needs ``scores``.
        observation_reupdate: OC-SORT's ORU: a track matched again after missed frames re-runs
            its filter over the gap on a straight line from its last observation to the new one
            (see :meth:`KalmanBoxTrack.update`).
        observation_recovery: OC-SORT's OCR: a last round matches the tracks still unmatched to
            the (high-score) detections still unmatched by IoU >= ``iou_threshold`` with each
            track's last observed box instead of its prediction.
        keypoint_weight: in [0, 1]; the first round's similarity is
            ``(1 - w) * IoU + w * OKS`` (see :func:`tracking.similarity.keypoint_similarity`,
            falloff ``keypoint_kappa``) between the detection's keypoints and the track's last
            keypoints moved with its predicted box; IoU alone where they share no keypoint.
            Needs ``keypoints`` in :meth:`update`.
        appearance_weight: in [0, 1]; among the pairs that pass the first round's gate, the
            assignment maximises ``(1 - w) * similarity + w * (1 - histogram distance)``
            between the detection's appearance vector and the track's running average
            (``appearance_momentum`` of the old average is kept at each match). The gate itself
            stays geometric. Needs ``appearances`` in :meth:`update`.
        report_unconfirmed: also report matched tracks that are not confirmed yet, with
            ``track_id=None`` (their ``serial`` tells them apart); for offline post-processing.
    """

    def __init__(self, *, max_age: int = 1, min_hits: int = 3, iou_threshold: float = 0.3,
                 lost_track_buffer_s: float | None = None, fps: float | None = None,
                 low_score_threshold: float | None = None, low_score_iou_threshold: float = 0.5,
                 observation_reupdate: bool = False, observation_recovery: bool = False,
                 keypoint_weight: float = 0.0, keypoint_kappa: float = DEFAULT_KEYPOINT_KAPPA,
                 appearance_weight: float = 0.0, appearance_momentum: float = 0.9,
                 report_unconfirmed: bool = False) -> None:
        if int(max_age) != max_age or max_age < 0:
            raise ValueError(f"max_age must be a whole number >= 0, got {max_age!r}")
        if int(min_hits) != min_hits or min_hits < 0:
            raise ValueError(f"min_hits must be a whole number >= 0, got {min_hits!r}")
        for name, value in (("iou_threshold", iou_threshold), ("low_score_iou_threshold", low_score_iou_threshold),
                            ("keypoint_weight", keypoint_weight), ("appearance_weight", appearance_weight),
                            ("appearance_momentum", appearance_momentum)):
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
        if not float(keypoint_kappa) > 0:
            raise ValueError(f"keypoint_kappa must be > 0, got {keypoint_kappa!r}")
        if lost_track_buffer_s is not None:
            if not (fps is not None and np.isfinite(fps) and fps > 0):
                raise ValueError(f"lost_track_buffer_s needs the video's fps (> 0), got fps={fps!r}")
            if not (np.isfinite(lost_track_buffer_s) and lost_track_buffer_s >= 0):
                raise ValueError(f"lost_track_buffer_s must be >= 0 seconds, got {lost_track_buffer_s!r}")
            max_age = int(round(lost_track_buffer_s * fps))
        self.max_age = int(max_age)
        self.min_hits = int(min_hits)
        self.iou_threshold = float(iou_threshold)
        self.low_score_threshold = None if low_score_threshold is None else float(low_score_threshold)
        self.low_score_iou_threshold = float(low_score_iou_threshold)
        self.observation_reupdate = bool(observation_reupdate)
        self.observation_recovery = bool(observation_recovery)
        self.keypoint_weight = float(keypoint_weight)
        self.keypoint_kappa = float(keypoint_kappa)
        self.appearance_weight = float(appearance_weight)
        self.appearance_momentum = float(appearance_momentum)
        self.report_unconfirmed = bool(report_unconfirmed)
        self.reset()

    @property
    def frame_count(self) -> int:
        """Number of :meth:`update` calls since construction or the last :meth:`reset`."""
        return self._frame_count

    def reset(self) -> None:
        """Forget all tracks; the next reported track gets ID 1 again (call it for a new video)."""
        self._tracks: list[KalmanBoxTrack] = []
        self._frame_count = 0
        self._next_id = 1
        self._next_serial = 1

    def update(self, boxes: np.ndarray, scores: np.ndarray | None = None, *,
               keypoints: np.ndarray | None = None, appearances: np.ndarray | None = None) -> list[TrackedObject]:
        """Advance one frame with this frame's detections.

        Args:
            boxes: ``(N, 4)`` x1, y1, x2, y2 in pixels, any float dtype; ``N`` may be 0.
            scores: optional ``(N,)`` detection confidences, passed through to the output
                (required with ``low_score_threshold``).
            keypoints: optional ``(N, K, 3)`` x, y (pixels), confidence (0 = missing), for
                ``keypoint_weight``; ignored otherwise.
            appearances: optional ``(N, B)`` appearance vectors (L1-normalised histograms,
                :func:`tracking.appearance.color_histogram`; a row of NaN = unknown), for
                ``appearance_weight``; ignored otherwise.

        Returns the tracks matched in this frame that are confirmed (see ``min_hits``; also
        unconfirmed ones with ``report_unconfirmed``), in the order the tracks were created.
        Raises :class:`InvalidDetectionsError` for malformed input.
        """
        dets = as_boxes(boxes)
        det_scores = _as_scores(scores, len(dets))
        kpts = _as_keypoints(keypoints, len(dets)) if self.keypoint_weight > 0 else None
        feats = _as_appearances(appearances, len(dets)) if self.appearance_weight > 0 else None
        if self.low_score_threshold is not None and det_scores is None and len(dets):
            raise InvalidDetectionsError("scores are required when low_score_threshold is set")
        self._frame_count += 1
        predicted = self._predict()
        high = np.arange(len(dets)) if self.low_score_threshold is None or det_scores is None else \
            np.flatnonzero(det_scores >= self.low_score_threshold)
        matches, free_tracks, free_high = self._first_round(dets, high, predicted, kpts, feats)
        if self.low_score_threshold is not None:
            low = np.setdiff1d(np.arange(len(dets)), high)
            recent = free_tracks[[self._tracks[t].time_since_update == 1 for t in free_tracks]]
            more, _, _ = _match(iou_matrix(dets[low], predicted[recent]), self.low_score_iou_threshold, low, recent)
            matches += more
            free_tracks = np.setdiff1d(free_tracks, [t for _, t in more])
        if self.observation_recovery and len(free_tracks) and len(free_high):
            last = np.array([self._tracks[t].last_observation for t in free_tracks]).reshape(-1, 4)
            more, free_tracks, free_high = _match(iou_matrix(dets[free_high], last), self.iou_threshold,
                                                  free_high, free_tracks)
            matches += more
        matched_index: dict[int, int] = {}
        for det, trk in matches:
            self._observe(self._tracks[trk], dets[det], kpts, feats, det)
            matched_index[id(self._tracks[trk])] = int(det)
        for det in free_high:
            track = KalmanBoxTrack(dets[det], serial=self._next_serial)
            self._next_serial += 1
            self._observe(track, None, kpts, feats, det)
            self._tracks.append(track)
            matched_index[id(track)] = int(det)
        output = [self._report(t, matched_index[id(t)], det_scores) for t in self._tracks
                  if id(t) in matched_index and (self.report_unconfirmed or self._is_confirmed(t))]
        self._tracks = [t for t in self._tracks if t.time_since_update <= self.max_age]
        return output

    def _first_round(self, dets: np.ndarray, high: np.ndarray, predicted: np.ndarray,
                     kpts: np.ndarray | None, feats: np.ndarray | None):
        """Match the high-score detections to every track by IoU (blended with OKS) and, among
        the pairs that pass, ranked with appearance; returns (matches, free tracks, free dets)."""
        tracks = np.arange(len(self._tracks))
        similarity = iou_matrix(dets[high], predicted)
        if kpts is not None and len(high) and len(tracks):
            similarity = blend(similarity, self._keypoint_similarity(kpts[high], predicted), self.keypoint_weight)
        if feats is None or not len(high) or not len(tracks):
            return _match(similarity, self.iou_threshold, high, tracks)
        ranking = blend(similarity, appearance_similarity(feats[high], [t.appearance for t in self._tracks]),
                        self.appearance_weight)
        return _match(ranking, -1.0, high, tracks, admissible=similarity >= self.iou_threshold)

    def _keypoint_similarity(self, det_kpts: np.ndarray, predicted: np.ndarray) -> np.ndarray:
        moved = np.zeros((len(self._tracks), det_kpts.shape[1], 3))
        for j, track in enumerate(self._tracks):
            if track.keypoints is not None and track.keypoints.shape == moved.shape[1:]:
                moved[j] = track.keypoints
                moved[j, :, :2] += track.displacement_since_observation()
        return keypoint_similarity(det_kpts, moved, predicted, kappa=self.keypoint_kappa)

    def _observe(self, track: KalmanBoxTrack, box: np.ndarray | None, kpts: np.ndarray | None,
                 feats: np.ndarray | None, det: int) -> None:
        """Update ``track`` with detection ``det`` (its box unless it just started from it)."""
        if box is not None:
            track.update(box, reupdate=self.observation_reupdate)
        if kpts is not None:
            track.keypoints = kpts[det].copy()
        if feats is not None and np.isfinite(feats[det]).all():
            m = self.appearance_momentum
            feature = feats[det] if track.appearance is None else m * track.appearance + (1 - m) * feats[det]
            track.appearance = feature / max(float(feature.sum()), 1e-12)

    def _predict(self) -> np.ndarray:
        """Advance every track one frame; drop tracks whose state degenerated; return ``(T, 4)``."""
        predicted = [track.predict() for track in self._tracks]
        keep = [bool(np.isfinite(box).all()) for box in predicted]
        self._tracks = [t for t, k in zip(self._tracks, keep) if k]
        return np.array([b for b, k in zip(predicted, keep) if k], dtype=np.float64).reshape(-1, 4)

    def _is_confirmed(self, track: KalmanBoxTrack) -> bool:
        """Reported now: enough consecutive hits, the first frames of the sequence, or reported
        before (it has an ID)."""
        return (track.public_id is not None or track.hit_streak >= self.min_hits
                or self._frame_count <= self.min_hits)

    def _report(self, track: KalmanBoxTrack, det: int, scores: np.ndarray | None) -> TrackedObject:
        if track.public_id is None and self._is_confirmed(track):
            track.public_id = self._next_id
            self._next_id += 1
        score = None if scores is None else float(scores[det])
        return TrackedObject(track_id=track.public_id, box=track.box(), detection_index=det, score=score,
                             serial=track.serial)


def _match(similarity: np.ndarray, threshold: float, rows: np.ndarray, cols: np.ndarray, *,
           admissible: np.ndarray | None = None) -> tuple[list[tuple[int, int]], np.ndarray, np.ndarray]:
    """:func:`associate` on a sub-matrix whose rows are detections ``rows`` and columns tracks
    ``cols``; returns (detection, track) pairs and the unmatched tracks and detections."""
    rows, cols = np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp)
    result = associate(similarity.reshape(len(rows), len(cols)), threshold, admissible=admissible)
    pairs = [(int(rows[d]), int(cols[t])) for d, t in result.matches]
    return pairs, cols[result.unmatched_tracks], rows[result.unmatched_detections]


def _as_scores(scores: np.ndarray | None, count: int) -> np.ndarray | None:
    if scores is None:
        return None
    array = np.asarray(scores, dtype=np.float64).reshape(-1)
    if array.shape != (count,):
        raise InvalidDetectionsError(f"scores must have shape ({count},) to match boxes; got {np.shape(scores)}")
    if not np.isfinite(array).all():
        raise InvalidDetectionsError("scores must be finite numbers")
    return array


def _as_keypoints(keypoints: np.ndarray | None, count: int) -> np.ndarray:
    if keypoints is None:
        raise InvalidDetectionsError("keypoints (N, K, 3) are required when keypoint_weight > 0")
    array = np.asarray(keypoints, dtype=np.float64)
    if array.ndim != 3 or array.shape[0] != count or array.shape[2] != 3:
        raise InvalidDetectionsError(f"keypoints must have shape ({count}, K, 3) as x, y, confidence; "
                                     f"got {array.shape}")
    if not np.isfinite(array).all():
        raise InvalidDetectionsError("keypoints must be finite numbers (confidence 0 marks a missing one)")
    return array


def _as_appearances(appearances: np.ndarray | None, count: int) -> np.ndarray:
    if appearances is None:
        raise InvalidDetectionsError("appearances (N, B) are required when appearance_weight > 0")
    array = np.asarray(appearances, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] != count:
        raise InvalidDetectionsError(f"appearances must have shape ({count}, B); got {array.shape}")
    return array

"""Multi-object tracking: SORT with per-instance dense IDs and optional ByteTrack / OC-SORT
additions, offline post-processing of whole videos (stitching, gap filling, smoothing), and
MOTChallenge file I/O.

A pure library: numpy arrays in, typed results out; no Flask, Celery, Redis, job store or
pose imports, no environment, logging or printing. Boxes are x1, y1, x2, y2 in pixels.
"""
from __future__ import annotations

from tracking.appearance import color_histogram, histogram_distance, torso_box
from tracking.association import Assignment, associate
from tracking.boxes import iou_matrix
from tracking.errors import InvalidDetectionsError, MotFormatError, TrackingError
from tracking.gaps import DEFAULT_MAX_GAP_S, FilledTrack, fill_gaps, max_gap_frames
from tracking.mot import MotRecord, frames, read_mot, track_detections, write_mot
from tracking.smoothing import (
    SmoothedKeypoints, SmoothingSettings, smooth_boxes, smooth_keypoints, smoothing_preset,
)
from tracking.sort import Sort, TrackedObject
from tracking.stitch import renumber, stitch_tracklets
from tracking.tracklet import Tracklet, tracklets_from_rows

__all__ = [
    "Assignment",
    "DEFAULT_MAX_GAP_S",
    "FilledTrack",
    "InvalidDetectionsError",
    "MotFormatError",
    "MotRecord",
    "SmoothedKeypoints",
    "SmoothingSettings",
    "Sort",
    "TrackedObject",
    "Tracklet",
    "TrackingError",
    "associate",
    "color_histogram",
    "fill_gaps",
    "frames",
    "histogram_distance",
    "iou_matrix",
    "max_gap_frames",
    "read_mot",
    "renumber",
    "smooth_boxes",
    "smooth_keypoints",
    "smoothing_preset",
    "stitch_tracklets",
    "torso_box",
    "track_detections",
    "tracklets_from_rows",
    "write_mot",
]

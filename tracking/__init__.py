"""Multi-object tracking: SORT with per-instance dense IDs, and MOTChallenge file I/O.

A pure library: numpy arrays in, typed results out; no Flask, Celery, Redis, job store or
pose imports, no environment, logging or printing. Boxes are x1, y1, x2, y2 in pixels.
"""
from __future__ import annotations

from tracking.association import Assignment, associate
from tracking.boxes import iou_matrix
from tracking.errors import InvalidDetectionsError, MotFormatError, TrackingError
from tracking.mot import MotRecord, frames, read_mot, track_detections, write_mot
from tracking.sort import Sort, TrackedObject

__all__ = [
    "Assignment",
    "InvalidDetectionsError",
    "MotFormatError",
    "MotRecord",
    "Sort",
    "TrackedObject",
    "TrackingError",
    "associate",
    "frames",
    "iou_matrix",
    "read_mot",
    "track_detections",
    "write_mot",
]

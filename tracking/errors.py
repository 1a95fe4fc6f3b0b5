"""Exceptions raised by :mod:`tracking`; every message says what was wrong and where."""
from __future__ import annotations


class TrackingError(Exception):
    """Base class for errors raised by the tracking library."""


class InvalidDetectionsError(TrackingError, ValueError):
    """Boxes or scores handed to a tracker do not have the documented shape or values."""


class MotFormatError(TrackingError, ValueError):
    """A MOTChallenge text file is missing, unreadable or has a malformed row."""

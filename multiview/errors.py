"""Exceptions raised by :mod:`multiview`. Every message names the camera, file or view at fault
and what to do about it."""
from __future__ import annotations


class MultiviewError(ValueError):
    """Base class for every error the multi-view library raises on purpose."""


class CalibrationError(MultiviewError):
    """A calibration that cannot be read, or that does not fit the videos it is given with."""


class SyncError(MultiviewError):
    """Views that cannot be put on one time line: offsets that do not fit, or no motion to match."""


class FusionError(MultiviewError):
    """Views whose people cannot be put together in 3D (e.g. they never see the same person)."""


class FusionCancelled(Exception):
    """The caller's ``should_cancel`` said stop (not an error of the input)."""

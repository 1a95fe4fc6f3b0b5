"""Exceptions raised by :mod:`pose`. Every message names what went wrong and what to do about it."""
from __future__ import annotations


class PoseError(Exception):
    """Base class for every error the pose library raises on purpose."""


class ModelLoadError(PoseError):
    """The graph file is missing, unreadable, or not the OpenPose graph a backend expects."""


class BackendUnavailableError(PoseError):
    """The requested inference backend (or precision) cannot run here: unknown name, missing
    package, or a precision this CPU does not support."""


class DeviceUnavailableError(BackendUnavailableError):
    """The requested device cannot be used by this backend here: a GPU asked for where there is
    none (no NVIDIA driver, no device, a driver too old, a CPU-only package) or where the backend
    runs on the CPU only. Never answered by falling back to the CPU."""


class InvalidImageError(PoseError):
    """An image that cannot be used: not decodable, empty, truncated, wrong dtype or channel
    count, or smaller than the network's stride."""


class DeviceFailedError(PoseError):
    """The device failed while running (a CUDA error other than running out of memory for a
    batch that can still be split): results from it can no longer be trusted, and the process
    should stop using it. A job that met it can run again elsewhere."""

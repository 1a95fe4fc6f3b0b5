"""The one interface every inference backend implements, and the checks they share.

A backend runs the OpenPose mobilenet_thin graph (``graph_opt.pb``) on a batch of images:

- input: float32 NHWC ``[N, H, W, 3]``, **BGR, 0..255, no mean subtraction**; H and W are any
  multiples of 8 (the network's stride);
- output: float32 NHWC ``[N, H/8, W/8, 57]``: channels 0-17 the part heatmaps, 18 the
  background, 19-56 the 19 PAF (x, y) pairs (see :mod:`pose.skeleton`).

Batches larger than one are part of the contract so that a GPU backend can use them; callers do
not need to change when one is added.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from pose.errors import ModelLoadError

NETWORK_STRIDE = 8
OUTPUT_CHANNELS = 57
PRECISIONS = ("f32", "bf16", "fp16")


@runtime_checkable
class InferenceBackend(Protocol):
    """Runs the graph. ``name`` is the registry name (e.g. ``"openvino"``), ``precision`` the
    arithmetic actually used (``"f32"``, ``"bf16"`` or ``"fp16"``), ``device`` where it runs
    (``"cpu"`` or ``"gpu:N"``), ``parallel_requests`` how many calls from different threads can
    usefully run at once (1 = they queue). Each backend class also answers
    ``availability()`` (:class:`pose.backends.availability.Availability`) without a model."""

    name: str
    precision: str
    device: str
    parallel_requests: int

    def infer(self, batch: np.ndarray) -> np.ndarray:
        """float32 NHWC [N, H, W, 3] BGR 0..255 -> float32 NHWC [N, H/8, W/8, 57]."""
        ...


def check_batch(batch: np.ndarray) -> np.ndarray:
    """Validate a network input batch and return it as a C-contiguous float32 array.

    Raises ValueError (a caller bug, not a user error) when the shape is not [N, H, W, 3] with
    H and W positive multiples of 8.
    """
    batch = np.asarray(batch)
    if batch.ndim != 4 or batch.shape[3] != 3:
        raise ValueError(f"expected a float32 NHWC batch [N, H, W, 3], got shape {batch.shape}")
    n, h, w, _ = batch.shape
    if n < 1 or h < NETWORK_STRIDE or w < NETWORK_STRIDE or h % NETWORK_STRIDE or w % NETWORK_STRIDE:
        raise ValueError(
            f"batch height and width must be positive multiples of {NETWORK_STRIDE}, got {h}x{w} (HxW)"
        )
    return np.ascontiguousarray(batch, dtype=np.float32)


def check_model_file(model_path: str | Path) -> Path:
    """Return ``model_path`` as a Path, raising ModelLoadError when it is not a readable file."""
    path = Path(model_path)
    if not path.is_file():
        raise ModelLoadError(
            f"model file {path} not found: run `posestudio fetch-model` (or `make setup`) to get graph_opt.pb"
        )
    return path


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return precision


def check_concurrency(num_threads: int | None, parallel_requests: int) -> int:
    """A backend's CPU threads (None: its own choice) and calls in flight, each at least 1;
    returns ``parallel_requests``."""
    if num_threads is not None and num_threads < 1:
        raise ValueError(f"num_threads must be >= 1 or None, got {num_threads}")
    if parallel_requests < 1:
        raise ValueError(f"parallel_requests must be >= 1, got {parallel_requests}")
    return int(parallel_requests)

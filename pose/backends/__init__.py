"""Inference backends for the OpenPose graph, behind one interface.

``load_backend(name, model_path, precision=...)`` is the only entry point callers need; adding a
backend (e.g. TensorFlow on a GPU) means adding one module and one entry in :data:`BACKENDS`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from pose.backends.base import InferenceBackend, NETWORK_STRIDE, PRECISIONS
from pose.backends.opencv import OpenCvBackend
from pose.backends.openvino import OpenVinoBackend
from pose.errors import BackendUnavailableError

BACKENDS: dict[str, Callable[..., InferenceBackend]] = {
    "openvino": OpenVinoBackend,
    "opencv": OpenCvBackend,
}
DEFAULT_BACKEND = "openvino"


def load_backend(
    name: str = DEFAULT_BACKEND,
    model_path: str | Path | None = None,
    *,
    precision: str = "f32",
    num_threads: int | None = None,
    parallel_requests: int = 1,
) -> InferenceBackend:
    """Load the graph at ``model_path`` into the backend called ``name``.

    name: ``"openvino"`` (default, fast on CPU) or ``"opencv"`` (cv2.dnn, the fallback).
    precision: ``"f32"`` (default) or ``"bf16"`` (openvino only).
    num_threads: openvino inference threads; None (default) uses every core. Ignored by opencv,
        whose thread count is process-wide (``cv2.setNumThreads``).
    parallel_requests: inferences the caller keeps in flight at once (default 1); openvino then
        runs that many streams (see OpenVinoBackend; the video pipeline uses 2). opencv always
        runs one at a time; every backend reports its number as ``backend.parallel_requests``.

    Raises BackendUnavailableError for an unknown name or an unsupported precision, and
    ModelLoadError when the file is missing or not the expected graph.
    """
    if model_path is None:
        raise TypeError("load_backend() needs model_path, the path of graph_opt.pb")
    factory = BACKENDS.get(name)
    if factory is None:
        raise BackendUnavailableError(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}")
    if name == "openvino":
        return factory(model_path, precision=precision, num_threads=num_threads,
                       parallel_requests=parallel_requests)
    return factory(model_path, precision=precision)


__all__ = [
    "BACKENDS", "DEFAULT_BACKEND", "InferenceBackend", "NETWORK_STRIDE", "OpenCvBackend",
    "OpenVinoBackend", "PRECISIONS", "load_backend",
]

"""Inference backends for the OpenPose graph, behind one interface.

``load_backend(name, model_path, device=..., precision=...)`` is the only entry point callers
need; ``availability(name)`` says, without loading anything, whether a backend can run here and
on which devices. Adding a backend (e.g. another runtime) means adding one module and one entry
in :data:`BACKENDS`.
"""
from __future__ import annotations

from pathlib import Path

from pose.backends.availability import Availability, resolve_device
from pose.backends.base import InferenceBackend, NETWORK_STRIDE, PRECISIONS
from pose.backends.devices import AUTO, CPU, Device
from pose.backends.onnxruntime import OnnxRuntimeBackend
from pose.backends.opencv import OpenCvBackend
from pose.backends.openvino import OpenVinoBackend
from pose.backends.pytorch import TorchBackend
from pose.errors import BackendUnavailableError

BACKENDS: dict[str, type] = {
    "openvino": OpenVinoBackend,
    "onnxruntime": OnnxRuntimeBackend,
    "opencv": OpenCvBackend,
    "torch": TorchBackend,
}
DEFAULT_BACKEND = "openvino"


def _backend_class(name: str) -> type:
    factory = BACKENDS.get(name)
    if factory is None:
        raise BackendUnavailableError(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}")
    return factory


def availability(name: str) -> Availability:
    """Whether backend ``name`` can run here, on which devices, why not (see Availability).
    Raises BackendUnavailableError for an unknown name."""
    return _backend_class(name).availability()


def load_backend(
    name: str = DEFAULT_BACKEND,
    model_path: str | Path | None = None,
    *,
    device: Device = AUTO,
    precision: str = "f32",
    num_threads: int | None = None,
    parallel_requests: int = 1,
) -> InferenceBackend:
    """Load the graph at ``model_path`` into the backend called ``name``, on ``device``.

    name: ``"openvino"`` (default, fast on CPU), ``"onnxruntime"`` (CPU, or an NVIDIA GPU with
        the ``gpu`` extra; runs the ONNX conversion beside ``model_path``, see ``make onnx``),
        ``"opencv"`` (cv2.dnn, the fallback) or ``"torch"`` (PyTorch, CPU or CUDA; runs the same
        ONNX conversion, see :mod:`pose.backends.pytorch`).
    device: a :class:`Device`: ``auto`` (default: a GPU when the backend can use one here, else
        the CPU), ``cpu``, or ``gpu`` / ``gpu:N``. A GPU that is asked for and cannot be used
        raises DeviceUnavailableError; it never falls back to the CPU. ``backend.device`` says
        where it runs.
    precision: ``"f32"`` (default), ``"bf16"`` (openvino on a CPU with bf16, torch on a GPU) or
        ``"fp16"`` (onnxruntime on a GPU with TensorRT, torch on a GPU).
    num_threads: inference threads on the CPU (openvino, onnxruntime); None (default) uses every
        core. Ignored by opencv, whose thread count is process-wide (``cv2.setNumThreads``).
    parallel_requests: inferences the caller keeps in flight at once (default 1); openvino then
        runs that many streams (see OpenVinoBackend; the video pipeline uses 2), onnxruntime
        shares the CPU's cores among them. opencv always runs one at a time; every backend
        reports its number as ``backend.parallel_requests``.

    Raises BackendUnavailableError for an unknown name, a backend that cannot run here or an
    unsupported precision (DeviceUnavailableError for a device), and ModelLoadError when the
    file is missing or not the expected graph.
    """
    if model_path is None:
        raise TypeError("load_backend() needs model_path, the path of graph_opt.pb")
    factory = _backend_class(name)
    if name == "opencv":
        return factory(model_path, precision=precision, device=device)
    return factory(model_path, device=device, precision=precision, num_threads=num_threads,
                   parallel_requests=parallel_requests)


__all__ = [
    "AUTO", "Availability", "BACKENDS", "CPU", "DEFAULT_BACKEND", "Device", "InferenceBackend",
    "NETWORK_STRIDE", "OnnxRuntimeBackend", "OpenCvBackend", "OpenVinoBackend", "PRECISIONS", "TorchBackend",
    "availability", "load_backend", "resolve_device",
]

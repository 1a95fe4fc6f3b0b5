"""ONNX Runtime backend: the graph converted once to ONNX (``make onnx``), on the CPU or on an
NVIDIA GPU.

On the CPU it is about 1.5x slower than OpenVINO f32 and agrees with it to about 1e-5; its
reason to exist is the GPU: ``onnxruntime-gpu`` (the ``gpu`` extra) runs it through TensorRT
(when TensorRT's libraries are there) and CUDA. Precisions: ``f32`` everywhere (CUDA without
TF32, so that it stays f32); ``fp16`` only on a GPU with TensorRT (its fp16 flag). fp16 on the
CPU is refused: ONNX Runtime's CPU kernels for this graph are f32, so there is nothing to gain.

N, H and W stay dynamic in the converted model, so any batch and any input size that is a
multiple of 8 runs without recompiling anything by hand (TensorRT builds an engine per new
shape, once). ``InferenceSession.run`` may be called from several threads at once and releases
the GIL while it computes.
"""
from __future__ import annotations

import ctypes
import os
from pathlib import Path

import numpy as np

from pose.backends.availability import Availability, check_precision_on, resolve_device
from pose.backends.base import OUTPUT_CHANNELS, check_batch, check_concurrency, check_precision
from pose.backends.devices import AUTO, Device, cuda_version_text, nvidia_gpus
from pose.backends.onnx_model import verified_onnx_model
from pose.errors import BackendUnavailableError, DeviceUnavailableError, ModelLoadError

CUDA_EP, TENSORRT_EP, CPU_EP = "CUDAExecutionProvider", "TensorrtExecutionProvider", "CPUExecutionProvider"
_TENSORRT_LIBRARIES = ("libnvinfer.so.10", "libnvinfer.so.8")


def _built_cuda_major(ort) -> int | None:  # noqa: ANN001 - the onnxruntime module
    """The CUDA major version this onnxruntime-gpu build needs (None if it does not say)."""
    try:
        from onnxruntime.capi import build_and_package_info
        return int(str(build_and_package_info.cuda_version).split(".")[0])
    except (ImportError, AttributeError, ValueError):
        return None


def _tensorrt_loadable() -> bool:
    for name in _TENSORRT_LIBRARIES:
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            continue
    return False


class OnnxRuntimeBackend:
    """Runs ``graph_opt.onnx`` (checked against its sidecar and ``model_path``) with ONNX Runtime.

    model_path: the source graph ``graph_opt.pb``; the model run is its conversion beside it
        (:func:`pose.backends.onnx_model.verified_onnx_model`).
    device: :class:`~pose.backends.devices.Device`; ``auto`` (default) takes the first GPU when
        this build and machine have one, else the CPU. ``backend.device`` says which it got
        (``"cpu"`` or ``"gpu:0"``) and ``backend.device_name`` what it is.
    precision: ``"f32"`` (default) or ``"fp16"`` (GPU with TensorRT only).
    num_threads: CPU threads per inference; None = every core, shared among
        ``parallel_requests`` calls in flight.
    """

    name = "onnxruntime"

    def __init__(self, model_path: str | Path, *, device: Device = AUTO, precision: str = "f32",
                 num_threads: int | None = None, parallel_requests: int = 1) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise BackendUnavailableError(f"the onnxruntime package is not installed ({exc}): install "
                                          "posestudio[gpu] for NVIDIA GPUs, or onnxruntime for the CPU") from None
        availability = self.availability()
        self.precision = check_precision(precision)
        concrete = resolve_device(availability, device)
        check_precision_on(availability, concrete, precision)
        self.parallel_requests = check_concurrency(num_threads, parallel_requests)
        onnx_path, _ = verified_onnx_model(model_path)
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only; a provider that fails to start is checked below
        if concrete.kind == "cpu":
            options.intra_op_num_threads = num_threads or max(1, (os.cpu_count() or 1) // self.parallel_requests)
            # No busy-waiting between operators: the pipeline's decode, drawing and encode share
            # these cores (on a loaded 2-core machine: 635 instead of 769 ms a 432x368 frame).
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers = self._providers(concrete, precision, availability)
        if concrete.kind == "gpu" and hasattr(ort, "preload_dlls"):
            ort.preload_dlls()  # CUDA and cuDNN from the nvidia-* wheels the gpu extra installs
        try:
            self._session = ort.InferenceSession(str(onnx_path), sess_options=options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/... for a bad file
            reason = (str(exc).strip().splitlines() or ["unknown error"])[0][:200]
            raise ModelLoadError(f"ONNX Runtime could not load {onnx_path}: {reason}; run `make onnx` to "
                                 "convert it again") from None
        running = self._session.get_providers()
        if concrete.kind == "gpu" and not {CUDA_EP, TENSORRT_EP} & set(running):
            raise DeviceUnavailableError(f"ONNX Runtime could not start CUDA on {concrete} (CUDA or cuDNN "
                                         f"libraries missing?); it offered only {', '.join(running)}")
        if precision == "fp16" and TENSORRT_EP not in running:
            raise DeviceUnavailableError(f"fp16 needs TensorRT on {concrete}, which ONNX Runtime could not "
                                         "start; use precision f32")
        self.providers = tuple(running)
        self.device = str(concrete)
        self.device_name = availability.device_names.get(self.device, self.device)
        self._input = self._session.get_inputs()[0].name
        self._output = self._session.get_outputs()[0].name

    @staticmethod
    def _providers(device: Device, precision: str, availability: Availability) -> list:
        if device.kind == "cpu":
            return [CPU_EP]
        index = device.index or 0
        providers: list = []
        if "fp16" in availability.precisions.get("gpu", ()):  # TensorRT is there
            providers.append((TENSORRT_EP, {"device_id": index, "trt_fp16_enable": precision == "fp16"}))
        providers.append((CUDA_EP, {"device_id": index, "use_tf32": 0}))
        return providers + [CPU_EP]  # only for nodes no GPU provider takes, as ONNX Runtime does anyway

    def infer(self, batch: np.ndarray) -> np.ndarray:
        """float32 NHWC [N, H, W, 3] BGR 0..255 -> float32 NHWC [N, H/8, W/8, 57]."""
        batch = check_batch(batch)
        out = self._session.run([self._output], {self._input: batch})[0]
        if out.ndim != 4 or out.shape[-1] != OUTPUT_CHANNELS:
            raise ModelLoadError(f"the graph returned shape {out.shape}; expected [N, H/8, W/8, 57] (wrong model?)")
        return np.ascontiguousarray(out, dtype=np.float32)

    @classmethod
    def availability(cls) -> Availability:
        """Whether onnxruntime is installed, and which GPUs its build and this machine allow."""
        try:
            import onnxruntime as ort
        except ImportError:
            return Availability(cls.name, False, reason="the onnxruntime package is not installed (pip install "
                                "posestudio[gpu] for NVIDIA GPUs, onnxruntime for the CPU)")
        providers = ort.get_available_providers()
        precisions = {"cpu": ("f32",)}
        devices, names, gpu_reason = ["cpu"], {"cpu": "CPU (CPUExecutionProvider)"}, None
        probe = nvidia_gpus()
        if CUDA_EP not in providers:
            gpu_reason = (f"onnxruntime {ort.__version__} is the CPU build (no CUDAExecutionProvider): install "
                          "posestudio[gpu] (onnxruntime-gpu) in its place"
                          + (f"; and {probe.reason}" if probe.reason else ""))
        elif probe.reason:
            gpu_reason = probe.reason
        elif (built := _built_cuda_major(ort)) and (probe.driver_cuda_version or 0) < built * 1000:
            runs = cuda_version_text(probe.driver_cuda_version or 0)
            gpu_reason = (f"the NVIDIA driver is too old: it runs CUDA {runs}, onnxruntime-gpu {ort.__version__} "
                          f"is built for CUDA {built}: update the driver")
        else:
            trt = TENSORRT_EP in providers and _tensorrt_loadable()
            precisions["gpu"] = ("f32", "fp16") if trt else ("f32",)
            via = "TensorRT, CUDA" if trt else "CUDA; TensorRT's libraries not found, so no fp16"
            gpus = [f"gpu:{i}" for i in range(len(probe.names))]
            names.update({gpu: f"{name} ({via})" for gpu, name in zip(gpus, probe.names)})
            devices = gpus + devices
        return Availability(cls.name, True, devices=tuple(devices), device_names=names,
                            gpu_reason=gpu_reason, precisions=precisions)

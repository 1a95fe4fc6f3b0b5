"""PyTorch backend ("torch"): the graph from ``graph_opt.onnx`` as a torch module, on the CPU or
an NVIDIA GPU (CUDA).

It serves the GPU hosts that already have PyTorch with CUDA, where ``onnxruntime-gpu`` is not
installed (or cannot be: its wheel is 255 MB). The network is built from the ONNX conversion's
weights (:mod:`pose.backends.torch_graph`), checked against its sidecar like the onnxruntime
backend's. On the CPU it runs f32 and agrees with OpenVINO to about 1e-5 (slower than it: the CPU
backends are OpenVINO's job). On a GPU:

- precisions ``f32`` (TF32 switched off for convolutions and matmuls, so f32 means f32), ``fp16``
  and ``bf16`` (the weights and the input in that type; outputs come back as float32);
- ``channels_last`` memory format and cuDNN autotuning (``cudnn.benchmark``: the first batch of
  each new shape is timed against the alternatives, once per process);
- :meth:`TorchBackend.infer_tensor` takes and returns tensors that stay on the device, for the
  device-side pre- and post-processing (:mod:`pose.device_peaks`);
- a batch that runs out of GPU memory is split in halves and run again, and the smaller size is
  kept for later batches (``max_batch``; each split is logged and kept in ``notes``); any other
  CUDA error becomes :class:`~pose.errors.DeviceFailedError`: the GPU is not to be trusted any
  more, the caller stops using it.

``torch.backends`` switches are process-wide: loading a GPU backend sets TF32 off and cuDNN
autotuning on for the whole process (the worker process that runs it). Nothing here touches CUDA
before a GPU backend is loaded: :meth:`TorchBackend.availability` asks the NVIDIA driver (NVML),
so a process that asked can still fork workers that use the GPU.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np

from pose.backends.availability import Availability, check_precision_on, resolve_device
from pose.backends.base import OUTPUT_CHANNELS, check_batch, check_concurrency, check_precision
from pose.backends.devices import AUTO, Device, cuda_version_text, nvidia_gpus
from pose.backends.onnx_model import verified_onnx_model
from pose.errors import BackendUnavailableError, DeviceFailedError

log = logging.getLogger(__name__)

GPU_PRECISIONS = ("f32", "fp16", "bf16")
INSTALL_HINT = "`make setup-torch`, or pip install torch (the CUDA build for NVIDIA GPUs)"


def _dtype(torch, precision: str):  # noqa: ANN001 - the torch module
    return {"f32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is the GPU running out of memory (a batch too large), not a failure."""
    import torch
    return isinstance(exc, torch.OutOfMemoryError)


def is_device_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is a CUDA error other than out-of-memory (a device fault, an illegal
    address, a lost GPU): after one, nothing more should run on that GPU in this process."""
    import torch
    if is_out_of_memory(exc):
        return False
    if isinstance(exc, getattr(torch, "AcceleratorError", ())):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and any(
        marker in text for marker in ("CUDA error", "CUBLAS_STATUS", "CUDNN_STATUS", "cuDNN error"))


class TorchBackend:
    """Runs ``graph_opt.onnx`` (checked against its sidecar and ``model_path``) with PyTorch.

    model_path: the source graph ``graph_opt.pb``; the model run is its ONNX conversion beside it
        (checked against its sidecar, and against the graph when the graph is there: a machine
        given only ``graph_opt.onnx`` and its sidecar can run this backend).
    device: :class:`~pose.backends.devices.Device`; ``auto`` takes the first GPU when this torch
        build and machine have one, else the CPU.
    precision: ``"f32"`` (default), or ``"fp16"`` / ``"bf16"`` on a GPU.
    num_threads: CPU threads (``torch.set_num_threads``, process-wide); None: torch's own number
        (every core, or OMP_NUM_THREADS), divided among ``parallel_requests`` on the CPU.
    parallel_requests: calls the caller keeps in flight (torch releases the GIL while it
        computes, so several threads may call :meth:`infer`).
    channels_last: NHWC memory format inside the network (default: on a GPU only).
    """

    name = "torch"

    def __init__(self, model_path: str | Path, *, device: Device = AUTO, precision: str = "f32",
                 num_threads: int | None = None, parallel_requests: int = 1,
                 channels_last: bool | None = None) -> None:
        availability = self.availability()
        self.precision = check_precision(precision)
        concrete = resolve_device(availability, device)
        check_precision_on(availability, concrete, precision)
        parallel_requests = check_concurrency(num_threads, parallel_requests)
        import torch
        from pose.backends.torch_graph import build_network

        onnx_path, _ = verified_onnx_model(model_path, require_source=False)  # only the ONNX model is run
        self.parallel_requests = parallel_requests
        self.device = str(concrete)
        self.device_name = availability.device_names.get(self.device, self.device)
        self.on_gpu = concrete.kind == "gpu"
        self.channels_last = self.on_gpu if channels_last is None else bool(channels_last)
        self.dtype = _dtype(torch, precision)
        self.max_batch: int | None = None  # set when a batch ran out of GPU memory
        self.notes: list[str] = []
        self._lock = threading.Lock()
        if num_threads is not None:
            torch.set_num_threads(num_threads)
        elif not self.on_gpu and self.parallel_requests > 1:
            # torch's threads shared among the calls in flight: OpenMP teams that outnumber the
            # cores spin against each other (40x slower measured on a loaded 2-core machine).
            torch.set_num_threads(max(1, torch.get_num_threads() // self.parallel_requests))
        self.torch_device = torch.device(f"cuda:{concrete.index or 0}" if self.on_gpu else "cpu")
        network = build_network(onnx_path)
        if self.on_gpu:
            # f32 means f32: no TF32 in convolutions or matmuls (process-wide switches).
            torch.backends.cudnn.allow_tf32 = False
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.benchmark = True
            try:
                network = network.to(self.torch_device, dtype=self.dtype)
            except Exception as exc:  # a driver or CUDA that cannot start: one line, not a traceback
                raise BackendUnavailableError(f"torch could not start CUDA on {self.device}: "
                                              f"{(str(exc).splitlines() or [type(exc).__name__])[0]}") from None
        if self.channels_last:
            network = network.to(memory_format=torch.channels_last)
        self.network = network

    def infer(self, batch: np.ndarray) -> np.ndarray:
        """float32 NHWC [N, H, W, 3] BGR 0..255 -> float32 NHWC [N, H/8, W/8, 57]."""
        import torch
        batch = check_batch(batch)
        with torch.inference_mode():
            x = torch.from_numpy(batch).permute(0, 3, 1, 2)  # a view: NCHW in NHWC memory
            if self.on_gpu:
                x = x.pin_memory().to(self.torch_device, non_blocking=True)
            out = self.infer_tensor(x)
            out = out.permute(0, 2, 3, 1).float().cpu()
        return np.ascontiguousarray(out.numpy(), dtype=np.float32)

    def infer_tensor(self, x):  # noqa: ANN001, ANN201 - torch tensors, torch imported lazily
        """float NCHW [N, 3, H, W] BGR 0..255 on this backend's device -> [N, 57, H/8, W/8] in the
        backend's dtype, on the device. Splits a batch that runs out of GPU memory; raises
        DeviceFailedError on any other CUDA error. Call under ``torch.inference_mode()``."""
        import torch
        x = x.to(self.dtype, memory_format=torch.channels_last if self.channels_last else torch.contiguous_format)
        return self._forward_limited(x)

    def _forward_limited(self, x):  # noqa: ANN001, ANN202
        """The network on ``x`` in pieces of at most ``max_batch`` frames (the size that last fit)."""
        import torch
        limit = self.max_batch
        if limit is not None and x.shape[0] > limit:
            return torch.cat([self._forward_limited(part) for part in torch.split(x, limit)])
        return self._forward(x)

    def _forward(self, x):  # noqa: ANN001, ANN202
        try:
            out = self.network(x)
            if out.shape[1] != OUTPUT_CHANNELS:
                raise RuntimeError(f"the network returned {out.shape[1]} channels, not {OUTPUT_CHANNELS}")
            return out
        except Exception as exc:
            if is_out_of_memory(exc) and x.shape[0] > 1:
                return self._split_after_oom(x, exc)
            if is_device_failure(exc) or is_out_of_memory(exc):
                raise DeviceFailedError(f"the device {self.device} failed: "
                                        f"{(str(exc).splitlines() or [type(exc).__name__])[0]}") from exc
            raise

    def _split_after_oom(self, x, exc: BaseException):  # noqa: ANN001, ANN202
        import torch
        half = (x.shape[0] + 1) // 2
        with self._lock:
            if self.max_batch is None or half < self.max_batch:
                self.max_batch = half
                note = (f"the GPU ran out of memory for a batch of {x.shape[0]} frames at "
                        f"{x.shape[3]}x{x.shape[2]}: batches of at most {half} from now on")
                self.notes.append(note)
                log.warning("%s (%s)", note, (str(exc).splitlines() or [""])[0][:200])
        if self.on_gpu:
            torch.cuda.empty_cache()
        return self._forward_limited(x)

    @classmethod
    def availability(cls) -> Availability:
        """Whether torch is installed, and which GPUs its build and this machine allow (NVML, no
        CUDA context)."""
        try:
            import torch
        except ImportError:
            return Availability(cls.name, False, reason=f"the torch package is not installed ({INSTALL_HINT})")
        built = torch.version.cuda
        precisions = {"cpu": ("f32",)}
        devices, names, gpu_reason = ["cpu"], {"cpu": f"CPU (torch {torch.__version__})"}, None
        probe = nvidia_gpus()
        if not built:
            gpu_reason = (f"torch {torch.__version__} is a CPU-only build (no CUDA): install the CUDA build "
                          "of torch for NVIDIA GPUs" + (f"; and {probe.reason}" if probe.reason else ""))
        elif probe.reason:
            gpu_reason = probe.reason
        elif (probe.driver_cuda_version or 0) < int(built.split(".")[0]) * 1000:
            gpu_reason = (f"the NVIDIA driver is too old: it runs CUDA {cuda_version_text(probe.driver_cuda_version or 0)}, "
                          f"torch {torch.__version__} is built for CUDA {built}: update the driver")
        else:
            precisions["gpu"] = GPU_PRECISIONS
            gpus = [f"gpu:{i}" for i in range(len(probe.names))]
            names.update({gpu: f"{name} (torch {torch.__version__}, CUDA {built})"
                          for gpu, name in zip(gpus, probe.names)})
            devices = gpus + devices
        return Availability(cls.name, True, devices=tuple(devices), device_names=names,
                            gpu_reason=gpu_reason, precisions=precisions)

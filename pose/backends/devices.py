"""Devices a backend can run on, and which NVIDIA GPUs this machine has.

A :class:`Device` is what a caller asks for: ``auto`` (a GPU when the backend can use one here,
else the CPU), ``cpu``, or ``gpu`` / ``gpu:N`` (N = the CUDA device index, 0 = the first).
Turning text into a Device is the caller's job (``config.parse_device``); this module never
reads the environment.

:func:`nvidia_gpus` asks the NVIDIA driver through NVML (``libnvidia-ml.so.1``, installed with
the driver), not through CUDA: NVML creates no CUDA context, so a process that asked can still
fork workers that use the GPU (Celery's prefork pool). NVML numbers the GPUs it sees in PCI
order; CUDA (and ONNX Runtime's ``device_id``) counts the devices ``CUDA_VISIBLE_DEVICES``
leaves visible, so with that variable set the two numberings can differ.
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass
from functools import lru_cache

DEVICE_KINDS = ("auto", "cpu", "gpu")


@dataclass(frozen=True)
class Device:
    """kind: "auto", "cpu" or "gpu"; index: the GPU's CUDA index (gpu only; None = the first)."""

    kind: str = "auto"
    index: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in DEVICE_KINDS:
            raise ValueError(f"device kind must be one of {', '.join(DEVICE_KINDS)}, got {self.kind!r}")
        if self.index is not None and (self.kind != "gpu" or self.index < 0):
            raise ValueError(f"only a GPU has an index (>= 0), got {self.kind}:{self.index}")

    def __str__(self) -> str:
        return self.kind if self.index is None else f"{self.kind}:{self.index}"


AUTO = Device("auto")
CPU = Device("cpu")


@dataclass(frozen=True)
class GpuProbe:
    """What the NVIDIA driver says: ``names[i]`` is GPU i's name; ``driver_cuda_version`` the
    newest CUDA it runs (each backend compares it with the CUDA it was built for); ``reason``
    says why there is none (no driver, no device), None when there are some."""

    names: tuple[str, ...] = ()
    driver_cuda_version: int | None = None  # e.g. 12040 for CUDA 12.4
    reason: str | None = None


def cuda_version_text(version: int) -> str:
    """12040 -> "12.4" (CUDA's own integer encoding)."""
    return f"{version // 1000}.{version % 1000 // 10}"


@lru_cache(maxsize=1)
def nvidia_gpus() -> GpuProbe:
    """The NVIDIA GPUs this process can see, asked once per process (see the module's notes)."""
    try:
        nvml = ctypes.CDLL("libnvidia-ml.so.1")
    except OSError:
        return GpuProbe(reason="no NVIDIA driver here (libnvidia-ml.so.1 not found)")
    if nvml.nvmlInit_v2() != 0:
        return GpuProbe(reason="the NVIDIA driver is installed but does not answer (nvmlInit failed)")
    try:
        version = ctypes.c_int(0)
        if nvml.nvmlSystemGetCudaDriverVersion(ctypes.byref(version)) != 0:
            version.value = 0
        count = ctypes.c_uint(0)
        if nvml.nvmlDeviceGetCount_v2(ctypes.byref(count)) != 0 or count.value == 0:
            return GpuProbe(driver_cuda_version=version.value or None,
                            reason="no NVIDIA GPU found (the driver sees no device)")
        names = []
        for index in range(count.value):
            handle, name = ctypes.c_void_p(), ctypes.create_string_buffer(96)
            ok = (nvml.nvmlDeviceGetHandleByIndex_v2(index, ctypes.byref(handle)) == 0
                  and nvml.nvmlDeviceGetName(handle, name, len(name)) == 0)
            names.append(name.value.decode(errors="replace") if ok else "NVIDIA GPU")
    finally:
        nvml.nvmlShutdown()
    return GpuProbe(names=tuple(names), driver_cuda_version=version.value or None)

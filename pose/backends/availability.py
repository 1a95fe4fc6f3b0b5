"""Whether a backend can run here, on which devices, and which device a request gets.

Each backend class has a ``availability()`` classmethod that answers without loading a model;
:func:`resolve_device` turns a requested :class:`~pose.backends.devices.Device` into the
concrete one (``cpu`` or ``gpu:N``), or refuses with a one-line reason. A GPU that was asked
for and cannot be had is an error, never a quiet fall-back to the CPU.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pose.backends.devices import CPU, Device
from pose.errors import BackendUnavailableError, DeviceUnavailableError


@dataclass(frozen=True)
class Availability:
    """name: the backend's registry name; available: whether it can run here at all (else
    ``reason`` says why, e.g. a package that is not installed); devices: those it can use here,
    ``"cpu"`` and ``"gpu:N"``, in the order ``auto`` prefers (GPUs first); device_names: a
    description of each (``{"gpu:0": "NVIDIA H200"}``); gpu_reason: why it has no GPU here,
    None when it has one; precisions: per device kind ("cpu", "gpu"), the precisions it runs."""

    name: str
    available: bool
    reason: str | None = None
    devices: tuple[str, ...] = ()
    device_names: dict[str, str] = field(default_factory=dict)
    gpu_reason: str | None = None
    precisions: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def auto_device(self) -> str | None:
        """What ``auto`` picks here: the first GPU if any, else the CPU (None if unavailable)."""
        return self.devices[0] if self.available and self.devices else None

    def to_dict(self) -> dict:
        """JSON-ready: every field, plus ``auto`` (what ``--device auto`` picks)."""
        return {"name": self.name, "available": self.available, "reason": self.reason,
                "devices": list(self.devices), "device_names": dict(self.device_names),
                "gpu_reason": self.gpu_reason, "auto": self.auto_device,
                "precisions": {kind: list(values) for kind, values in self.precisions.items()}}


def resolve_device(availability: Availability, device: Device) -> Device:
    """The concrete device (``cpu`` or ``gpu:N``) that ``device`` means for this backend here.

    Raises BackendUnavailableError when the backend cannot run here at all, and
    DeviceUnavailableError (one line, with the reason) for a GPU it cannot use here.
    """
    if not isinstance(device, Device):
        raise TypeError(f"device must be a pose.backends.devices.Device, got {device!r} "
                        "(config.parse_device makes one from text such as 'gpu:0')")
    name = availability.name
    if not availability.available:
        raise BackendUnavailableError(f"the {name} backend cannot run here: {availability.reason}")
    gpus = [d for d in availability.devices if d.startswith("gpu:")]
    if device.kind == "auto":
        return Device("gpu", int(gpus[0][4:])) if gpus else CPU
    if device.kind == "cpu":
        return CPU
    if not gpus:
        raise DeviceUnavailableError(f"device {device} asked for, but the {name} backend has no GPU here: "
                                     f"{availability.gpu_reason}")
    wanted = f"gpu:{device.index or 0}"
    if wanted not in gpus:
        raise DeviceUnavailableError(f"device {device} asked for, but there is no {wanted} here; the {name} backend "
                                     f"sees {', '.join(gpus)}")
    return Device("gpu", device.index or 0)


def check_precision_on(availability: Availability, device: Device, precision: str) -> None:
    """Raise BackendUnavailableError unless the backend runs ``precision`` on the concrete ``device``."""
    allowed = availability.precisions.get(device.kind, ())
    if precision not in allowed:
        others = [f"{p} on the {kind.upper()}" for kind, values in availability.precisions.items()
                  for p in values if p == precision]
        hint = f" (it runs {', '.join(others)})" if others else ""
        raise BackendUnavailableError(f"the {availability.name} backend runs {' or '.join(allowed) or 'nothing'} "
                                      f"on {device}, not {precision}{hint}")

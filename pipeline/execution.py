"""How a process runs pass 1: batch size and post-processing processes (not what a job asks).

These settings change how fast a job runs, never what it produces (tests hold this: the same
exports, byte for byte), so they belong to the process that runs the job, not to the job: the
worker takes them from its environment (``INFERENCE_BATCH``, ``POSTPROCESS_WORKERS``, see
``config.Settings``), ``posestudio process`` from ``--batch-size`` and ``--postprocess-workers``.
They are not :class:`pipeline.options.PipelineOptions`, so a web user cannot ask for 64-frame
batches, and the options recorded in ``keypoints.json`` stay those that shape the result.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from config import MAX_INFERENCE_BATCH as MAX_BATCH_SIZE  # most frames in one inference batch

AUTO = "auto"


@dataclass(frozen=True)
class Execution:
    """batch_size: frames per inference call (default 1: on this project's CPU machines
        OpenVINO is fastest with two single-frame requests in flight, see the numbers in
        docs/gpu.md's "GPU workers"; a GPU wants 8 to 64). A batch is cut to the frames the
        job's memory budget keeps in flight (``MAX_IN_FLIGHT_MB``), and the last batch of a
        video may be shorter.
    postprocess_workers: processes for peaks and PAF assembly; 0 = in the pipeline's own thread
        (right on a CPU, where inference already uses every core); ``"auto"`` (default) = one
        per core but one when the backend runs on a GPU, else 0.
    """

    batch_size: int = 1
    postprocess_workers: int | str = AUTO

    def __post_init__(self) -> None:
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) \
                or not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            raise ValueError(f"batch_size must be a whole number from 1 to {MAX_BATCH_SIZE}, got {self.batch_size!r}")
        workers = self.postprocess_workers
        if workers != AUTO and (isinstance(workers, bool) or not isinstance(workers, int) or not 0 <= workers <= 256):
            raise ValueError(f"postprocess_workers must be 'auto' or a whole number from 0 to 256, got {workers!r}")

    @classmethod
    def parse(cls, *, batch_size: Any = None, postprocess_workers: Any = None) -> "Execution":
        """From text (flags, environment); None or "" takes the default. Raises ValueError
        naming the setting."""
        values: dict[str, Any] = {}
        if batch_size not in (None, ""):
            values["batch_size"] = _whole("batch_size", batch_size)
        if postprocess_workers not in (None, ""):
            text = str(postprocess_workers).strip().lower()
            values["postprocess_workers"] = AUTO if text == AUTO else _whole("postprocess_workers", text)
        return cls(**values)

    def workers_for(self, backend: Any, *, cores: int | None = None) -> int:
        """Post-processing processes to use with ``backend``: ``"auto"`` resolves to
        ``cores - 1`` (at least 1) when it runs on a GPU (:func:`runs_on_gpu`), else 0."""
        if self.postprocess_workers != AUTO:
            return int(self.postprocess_workers)
        if not runs_on_gpu(backend):
            return 0
        return max(1, (cores or os.cpu_count() or 1) - 1)


def runs_on_gpu(backend: Any) -> bool:
    """Whether ``backend`` infers on a GPU: its ``device`` attribute (``"cpu"`` when it has
    none, as the OpenVINO and cv2.dnn backends) names anything but the CPU."""
    device = str(getattr(backend, "device", "cpu") or "cpu").lower()
    return not device.startswith("cpu")


def _whole(name: str, raw: Any) -> int:
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None
    if not value.is_integer():
        raise ValueError(f"{name} must be a whole number, got {raw!r}")
    return int(value)

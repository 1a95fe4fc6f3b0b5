"""The host's NVIDIA GPUs as ``nvidia-smi`` reports them: which there are, and how busy.

Used by ``posestudio worker --gpus`` (one worker per GPU) and by ``bench/gpu.py``. Without ``nvidia-smi`` (no driver, a CPU host) there
are no GPUs and utilisation is unknown, never an error.
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

QUERY_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Gpu:
    """index: as nvidia-smi and CUDA_VISIBLE_DEVICES number it; name: e.g. "NVIDIA H200";
    memory_mib: total memory."""

    index: int
    name: str
    memory_mib: float | None = None


class GpuQueryError(RuntimeError):
    """nvidia-smi is there but did not answer (driver not loaded, a hung GPU)."""


def _query(fields: str) -> list[list[str]]:
    """Rows of ``nvidia-smi --query-gpu=FIELDS``; [] without nvidia-smi."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        done = subprocess.run([smi, f"--query-gpu={fields}", "--format=csv,noheader,nounits"],
                              capture_output=True, text=True, timeout=QUERY_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GpuQueryError(f"nvidia-smi did not answer: {exc}") from None
    if done.returncode != 0:
        raise GpuQueryError(f"nvidia-smi failed: {(done.stderr or done.stdout).strip()[:200]}")
    return parse_rows(done.stdout)


def parse_rows(text: str) -> list[list[str]]:
    """nvidia-smi's CSV (no header, no units) as rows of stripped fields."""
    return [[field.strip() for field in line.split(",")] for line in text.splitlines() if line.strip()]


def list_gpus() -> list[Gpu]:
    """Every GPU of the host (all of them, whatever CUDA_VISIBLE_DEVICES says)."""
    return [Gpu(index=int(row[0]), name=row[1], memory_mib=_number(row[2]))
            for row in _query("index,name,memory.total") if len(row) >= 3]


def utilisation() -> dict[int, tuple[float | None, float | None]]:
    """Per GPU index: (percent of time a kernel ran, memory used in MiB) at this moment."""
    return {int(row[0]): (_number(row[1]), _number(row[2]))
            for row in _query("index,utilization.gpu,memory.used") if len(row) >= 3}


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:  # "[N/A]", "[Not Supported]"
        return None

"""``--backend`` and ``--device`` for every command that runs the model, and their one check.

A device that cannot be had (a GPU where there is none, a backend that runs on the CPU only, a
backend that cannot run here) is one line on stderr and exit code :data:`EXIT_UNAVAILABLE`,
before anything is read or written, never a traceback and never a quiet fall-back to the CPU.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

import config

EXIT_UNAVAILABLE = 2
BACKEND_NAMES = ("openvino", "onnxruntime", "opencv", "torch")  # pose.backends.BACKENDS, without importing pose


def device_arg(text: str) -> str:
    """argparse type of ``--device``: auto, cpu, gpu or gpu:N."""
    try:
        return config.device_text(text, name="--device")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_backend_flags(parser: argparse.ArgumentParser | Any, *, backend: bool = True,
                      env_default: bool = False) -> None:
    """Add ``--backend`` (unless ``backend`` is False: a command that has its own) and ``--device``.
    env_default: the defaults are the environment's (INFERENCE_BACKEND, INFERENCE_DEVICE), as for
    workers; otherwise openvino and auto."""
    where = " (default: $INFERENCE_BACKEND, else openvino)" if env_default else " (default: openvino)"
    if backend:
        parser.add_argument("--backend", choices=BACKEND_NAMES, default=None,
                            help="inference backend: openvino (CPU), onnxruntime (CPU, or an NVIDIA GPU with "
                                 "the gpu extra), opencv (CPU, slow, always there) or torch (CPU, or an NVIDIA GPU "
                                 "with the CUDA build of PyTorch)" + where)
    parser.add_argument("--device", type=device_arg, default=None, metavar="auto|cpu|gpu[:N]",
                        help="where the model runs: auto (a GPU when the backend can use one here, else the CPU), "
                             "cpu, gpu or gpu:N; `posestudio backends` lists what is there"
                             + (" (default: $INFERENCE_DEVICE, else auto)" if env_default else " (default: auto)"))


def resolve(prog: str, backend: str, device_text: str | None) -> tuple[Any, str] | int:
    """The concrete pose Device for ``backend`` and what it is (e.g. ``"gpu:0: NVIDIA H200 (...)"``),
    or, after one line on stderr, :data:`EXIT_UNAVAILABLE`."""
    from pose import PoseError
    from pose.backends import availability, resolve_device

    try:
        found = availability(backend)
        concrete = resolve_device(found, config.parse_device(device_text or "auto"))
    except (PoseError, ValueError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    return concrete, f"{concrete}: {found.device_names.get(str(concrete), str(concrete))}"


def hand_to_workers(prog: str, args: argparse.Namespace, env: dict | Any = None) -> int | None:
    """For ``worker`` and ``serve``: ``--backend`` / ``--device`` (else the environment's
    INFERENCE_BACKEND / INFERENCE_DEVICE) are checked here and printed as one line, then put into
    ``env`` (default ``os.environ``) for the Celery worker to read through config.Settings.
    Returns None, or the exit code after one line on stderr."""
    import os

    env = os.environ if env is None else env
    if args.backend:
        env["INFERENCE_BACKEND"] = args.backend
    if args.device:
        env["INFERENCE_DEVICE"] = args.device
    backend = (env.get("INFERENCE_BACKEND") or "openvino").strip().lower()
    try:
        device = config.device_text(env.get("INFERENCE_DEVICE") or "auto", name="INFERENCE_DEVICE")
    except ValueError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    resolved = resolve(prog, backend, device)
    if isinstance(resolved, int):
        return resolved
    print(f"{prog}: inference: {backend} on {resolved[1]} (device {device})", flush=True)
    return None

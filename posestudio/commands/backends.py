"""``posestudio backends [--json]``: which inference backends can run here, on which devices.

For each backend: whether it can run here (else why: a package that is not installed), the
devices it can use (``cpu``, ``gpu:N``) and what ``--device auto`` picks, why it has no GPU
when it has none (no NVIDIA driver, no device, a driver too old, a CPU-only package, a backend
that runs on the CPU only), the precisions per device kind, and whether its model file is
ready (the ONNX conversion's checksums for onnxruntime). Nothing is guessed: every line comes
from asking the packages and the NVIDIA driver (no model is loaded).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import config


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "backends", help="list the inference backends, whether they can run here and on which devices",
        description="For each inference backend: available or why not, the devices it can use (cpu, "
        "gpu:N) and the one --device auto picks, why there is no GPU when there is none, its "
        "precisions, and whether its model file is ready.")
    parser.add_argument("--json", action="store_true", help="one JSON document instead of the table")
    parser.add_argument("--model", type=Path, default=config.DEFAULT_MODEL_PATH,
                        help="graph_opt.pb, whose readiness (and its ONNX conversion's) is checked "
                             "(default: %(default)s)")
    parser.set_defaults(run=run)


def model_status(name: str, graph: Path) -> str | None:
    """None when ``name``'s model is ready to load, else what is wrong and how to fix it."""
    from pose import ModelLoadError
    from pose.backends.onnx_model import verified_onnx_model

    if name in ("onnxruntime", "torch"):  # both run the ONNX conversion; torch needs nothing else
        try:
            verified_onnx_model(graph, require_source=name == "onnxruntime")
        except ModelLoadError as exc:
            return str(exc)
        return None
    return None if graph.is_file() else f"model file {graph} not found: run `posestudio fetch-model`"


def report(graph: Path) -> dict:
    from pose.backends import BACKENDS, availability
    from pose.backends.devices import nvidia_gpus

    probe = nvidia_gpus()
    backends = []
    for name in BACKENDS:
        entry = availability(name).to_dict()
        entry["model_error"] = model_status(name, graph)
        backends.append(entry)
    return {"gpus": {"names": list(probe.names), "reason": probe.reason,
                     "driver_cuda_version": probe.driver_cuda_version},
            "backends": backends}


def run(args: argparse.Namespace) -> int:
    found = report(args.model)
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    gpus = found["gpus"]
    listed = ", ".join(f"gpu:{i} {name}" for i, name in enumerate(gpus["names"]))
    print("NVIDIA GPUs: " + (listed or f"none ({gpus['reason']})"))
    print(f"{'backend':<13}{'available':<11}{'devices':<18}{'auto':<8}precisions")
    for b in found["backends"]:
        precisions = "; ".join(f"{kind}: {', '.join(p)}" for kind, p in b["precisions"].items()) or "-"
        print(f"{b['name']:<13}{'yes' if b['available'] else 'no':<11}{', '.join(b['devices']) or '-':<18}"
              f"{b['auto'] or '-':<8}{precisions}")
        for label, text in (("not available", b["reason"]), ("no GPU", b["gpu_reason"]),
                            ("model", b["model_error"])):
            if text:
                print(f"    {label}: {text}")
        for device, description in b["device_names"].items():
            if device.startswith("gpu:"):
                print(f"    {device}: {description}")
    return 0

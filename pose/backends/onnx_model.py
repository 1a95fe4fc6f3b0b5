"""The ONNX conversion of ``graph_opt.pb`` and the check that it is the one it claims to be.

``make onnx`` (``tools/convert_onnx.py``, in a converter environment of its own) writes
``graph_opt.onnx`` beside the graph, then its sidecar ``graph_opt.onnx.json``::

    {"format": 1, "onnx": {"file": ..., "sha256": ..., "bytes": ...},
     "source": {"file": "graph_opt.pb", "sha256": ...}, "input": {"name": "image:0", ...},
     "output": ..., "opset": 17, "tools": {"tensorflow-cpu": ..., "tf2onnx": ..., ...}}

:func:`verified_onnx_model` refuses, with a ModelLoadError that says how to convert again, a
conversion that is missing, has no or a broken sidecar, whose bytes are not the ones converted
(damaged, truncated, replaced) or that was made from another graph than the one beside it.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pose.errors import ModelLoadError

SIDECAR_FORMAT = 1
REGENERATE = "run `make onnx` to convert it again"


def onnx_path_for(graph_path: str | Path) -> Path:
    """Where the conversion of ``graph_path`` lives: the same name with ``.onnx``."""
    return Path(graph_path).with_suffix(".onnx")


def sidecar_path_for(onnx_path: Path) -> Path:
    return onnx_path.with_name(onnx_path.name + ".json")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verified_onnx_model(graph_path: str | Path, *, require_source: bool = True) -> tuple[Path, dict]:
    """The ONNX model converted from ``graph_path`` and its sidecar record, once both check out.

    graph_path: the source graph (``models/graph_opt.pb``); its conversion is
        :func:`onnx_path_for` of it. Raises ModelLoadError (saying what is wrong and how to
        convert again) unless the ONNX file, its sidecar and the graph all exist and the sha256s
        the sidecar recorded are those of the two files now.
    require_source: False accepts a conversion whose source graph is not there at all (a machine
        that was given only the ONNX model, as the torch backend needs nothing else); it is still
        checked against its own sidecar, and against the graph whenever the graph is there.
    """
    graph = Path(graph_path)
    onnx_path = onnx_path_for(graph)
    sidecar = sidecar_path_for(onnx_path)
    if not onnx_path.is_file():
        raise ModelLoadError(f"the ONNX model {onnx_path} is not there: {REGENERATE} (needs {graph.name})")
    try:
        record = json.loads(sidecar.read_text())
        recorded_onnx, recorded_source = record["onnx"]["sha256"], record["source"]["sha256"]
        fmt = record["format"]
    except FileNotFoundError:
        raise ModelLoadError(f"{onnx_path} has no checksum file {sidecar.name} (an interrupted conversion?): "
                             f"{REGENERATE}") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelLoadError(f"{sidecar} is unreadable ({type(exc).__name__}: {exc}): {REGENERATE}") from None
    if fmt != SIDECAR_FORMAT:
        raise ModelLoadError(f"{sidecar} is of format {fmt!r}, this version reads {SIDECAR_FORMAT}: {REGENERATE}")
    if sha256_of(onnx_path) != recorded_onnx:
        raise ModelLoadError(f"{onnx_path} is not the file that was converted (its sha256 differs from "
                             f"{sidecar.name}'s: damaged or replaced): {REGENERATE}")
    if not graph.is_file() and not require_source:
        return onnx_path, record
    if not graph.is_file():
        raise ModelLoadError(f"model file {graph} not found (the ONNX model is checked against it): run "
                             "`posestudio fetch-model` (or `make setup`), then `make onnx`")
    if sha256_of(graph) != recorded_source:
        raise ModelLoadError(f"{onnx_path} was converted from another {graph.name} than the one there now "
                             f"(stale): {REGENERATE}")
    return onnx_path, record

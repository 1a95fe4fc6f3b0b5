"""Convert models/graph_opt.pb to ONNX once, for the onnxruntime backend (``make onnx``).

    .venv-onnx/bin/python tools/convert_onnx.py --graph models/graph_opt.pb --out models/graph_opt.onnx

Runs in the converter's own virtual environment (``.venv-onnx``, pinned by
requirements-onnx.txt): TensorFlow and tf2onnx stay out of the product's environment. Writes
``graph_opt.onnx`` and, last, its sidecar ``graph_opt.onnx.json``: the sha256 of the ONNX file
and of the source graph, the tool versions, the opset and the tensor names. The onnxruntime
backend (``pose/backends/onnx_model.py``) checks the sidecar against both files before it loads
anything, so a stale or damaged conversion is refused with the command that makes it again.

The graph's input ``image:0`` is float32 NHWC [N, H, W, 3] with N, H and W dynamic; the script
fails unless the converted model keeps those three dimensions dynamic.
Only the standard library, TensorFlow, tf2onnx and onnx: it cannot import the project.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

FORMAT = 1
INPUT = "image:0"
OUTPUT = "Openpose/concat_stage7:0"
OPSET = 17
TOOLS = ("tensorflow-cpu", "tf2onnx", "onnx", "protobuf", "numpy")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def convert(graph: Path, out: Path) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    import onnx
    import tensorflow as tf
    import tf2onnx

    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(graph.read_bytes())
    model, _ = tf2onnx.convert.from_graph_def(graph_def, input_names=[INPUT], output_names=[OUTPUT], opset=OPSET)
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    if len(dims) != 4 or any(isinstance(d, int) for d in dims[:3]) or dims[3] != 3:
        raise SystemExit(f"convert_onnx: the converted input has shape {dims}; expected [N, H, W, 3] with "
                         "N, H and W dynamic")
    tmp = out.with_name(out.name + ".partial")
    onnx.save(model, str(tmp))
    os.replace(tmp, out)
    return {
        "format": FORMAT,
        "onnx": {"file": out.name, "sha256": sha256(out), "bytes": out.stat().st_size},
        "source": {"file": graph.name, "sha256": sha256(graph)},
        "input": {"name": model.graph.input[0].name, "shape": dims},
        "output": model.graph.output[0].name,
        "opset": OPSET,
        "tools": {name: metadata.version(name) for name in TOOLS} | {"python": platform.python_version()},
        "made_by": "make onnx (tools/convert_onnx.py)",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", type=Path, required=True, help="the TensorFlow graph (graph_opt.pb)")
    parser.add_argument("--out", type=Path, required=True, help="the ONNX file to write; its sidecar gets .json added")
    args = parser.parse_args(argv)
    if not args.graph.is_file():
        print(f"convert_onnx: {args.graph} not found: run `make setup` (posestudio fetch-model) first", file=sys.stderr)
        return 1
    sidecar = args.out.with_name(args.out.name + ".json")
    sidecar.unlink(missing_ok=True)  # no sidecar while the ONNX file is being replaced
    record = convert(args.graph, args.out)
    tmp = sidecar.with_name(sidecar.name + ".partial")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(tmp, sidecar)
    print(f"{args.out}: {record['onnx']['bytes']:,} bytes, sha256 {record['onnx']['sha256'][:16]}..., "
          f"input {record['input']['shape']}, from {args.graph} ({record['source']['sha256'][:16]}...)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

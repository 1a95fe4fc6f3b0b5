"""What one frame of CMU's OpenPose COCO Caffe network costs beside mobilenet_thin: ms/frame and
memory, measured on a replica with random weights (CMU's weights are not here; the cost of a
network is its architecture's, not its weights').

    .venv/bin/python bench/caffe_cost.py [--height 368] [--width 496] [--repeats 5] [--stages 6]

The replica is ``pose_deploy_linevec.prototxt``'s architecture (VGG-19's first ten
convolutions, then six stages of two branches: PAFs and heatmaps, 57 output channels), written
here as a prototxt and built the way ``openpose-caffe-coco`` builds the user's files
(:mod:`pose.caffe_openpose`, OpenVINO f32, one request). Each network runs in a fresh
interpreter; printed: ms/frame (median of ``--repeats`` warm calls), the process's peak RSS after
loading and after inference, the multiply-adds per input pixel counted on the prototxt, and the
ratios to mobilenet_thin (``graph_opt.pb`` through the openvino backend, one request) at the same
input size in the same run. ``--stages 4`` gives the MPI "faster_4_stages" variant's cost.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def coco_prototxt(stages: int = 6) -> str:
    """CMU's COCO body network (pose_deploy_linevec.prototxt) layer for layer, without weights."""
    lines = ['name: "OpenPose - COCO replica"', 'input: "image"', "input_dim: 1", "input_dim: 3",
             "input_dim: 368", "input_dim: 368"]

    def conv(name: str, bottom: str, out: int, kernel: int, relu: bool = True) -> None:
        lines.append(f'layer {{ name: "{name}" type: "Convolution" bottom: "{bottom}" top: "{name}" '
                     f"convolution_param {{ num_output: {out} pad: {kernel // 2} kernel_size: {kernel} }} }}")
        if relu:
            lines.append(f'layer {{ name: "relu_{name}" type: "ReLU" bottom: "{name}" top: "{name}" }}')

    def pool(name: str, bottom: str) -> None:
        lines.append(f'layer {{ name: "{name}" type: "Pooling" bottom: "{bottom}" top: "{name}" '
                     "pooling_param { pool: MAX kernel_size: 2 stride: 2 } }")

    previous = "image"
    for block, (count, width) in enumerate(((2, 64), (2, 128), (4, 256)), start=1):
        for i in range(1, count + 1):
            conv(f"conv{block}_{i}", previous, width, 3)
            previous = f"conv{block}_{i}"
        pool(f"pool{block}_stage1", previous)
        previous = f"pool{block}_stage1"
    for name, out in (("conv4_1", 512), ("conv4_2", 512), ("conv4_3_CPM", 256), ("conv4_4_CPM", 128)):
        conv(name, previous, out, 3)
        previous = name
    features = previous
    outs = {"L1": 38, "L2": 19}
    for branch, out in outs.items():
        b = features
        for i in (1, 2, 3):
            conv(f"conv5_{i}_CPM_{branch}", b, 128, 3)
            b = f"conv5_{i}_CPM_{branch}"
        conv(f"conv5_4_CPM_{branch}", b, 512, 1)
        conv(f"conv5_5_CPM_{branch}", f"conv5_4_CPM_{branch}", out, 1, relu=False)
    last = {branch: f"conv5_5_CPM_{branch}" for branch in outs}
    for stage in range(2, stages + 1):
        lines.append(f'layer {{ name: "concat_stage{stage}" type: "Concat" bottom: "{last["L1"]}" '
                     f'bottom: "{last["L2"]}" bottom: "{features}" top: "concat_stage{stage}" }}')
        for branch, out in outs.items():
            b = f"concat_stage{stage}"
            for i in range(1, 6):
                conv(f"Mconv{i}_stage{stage}_{branch}", b, 128, 7)
                b = f"Mconv{i}_stage{stage}_{branch}"
            conv(f"Mconv6_stage{stage}_{branch}", b, 128, 1)
            conv(f"Mconv7_stage{stage}_{branch}", f"Mconv6_stage{stage}_{branch}", out, 1, relu=False)
            last[branch] = f"Mconv7_stage{stage}_{branch}"
    lines.append(f'layer {{ name: "concat_stage7" type: "Concat" bottom: "{last["L2"]}" bottom: "{last["L1"]}" '
                 'top: "net_output" }')
    return "\n".join(lines) + "\n"


_CHILD = r"""
import json, resource, statistics, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
which, height, width, repeats, stages = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
base = rss()
if which == "mobilenet_thin":
    import config
    from pose.backends import load_backend
    backend = load_backend("openvino", config.DEFAULT_MODEL_PATH)
    macs = None
else:
    import openvino
    from bench.caffe_cost import coco_prototxt, random_weights, macs_per_pixel
    from pose.caffe_format import parse_prototxt
    from pose.caffe_openpose import _build
    from pathlib import Path
    tree = parse_prototxt(coco_prototxt(stages))
    model = _build(openvino, tree, random_weights(tree), prototxt=Path("replica.prototxt"),
                   caffemodel=Path("replica.caffemodel"), convention=__import__("pose.caffe_openpose").caffe_openpose.OPENPOSE_INPUT)
    compiled = openvino.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY"})
    request = compiled.create_infer_request()
    class B:
        def infer(self, batch):
            request.infer({0: batch}); return request.get_output_tensor(0).data
    backend = B()
    macs = macs_per_pixel(tree)
loaded = rss()
batch = np.random.default_rng(0).uniform(0, 255, (1, height, width, 3)).astype(np.float32)
out = backend.infer(batch)
times = []
for _ in range(repeats):
    t = time.perf_counter(); backend.infer(batch); times.append((time.perf_counter() - t) * 1000)
print(json.dumps({"ms": statistics.median(times), "rss_loaded": loaded - base, "rss_peak": rss() - base,
                  "channels": int(out.shape[-1]), "macs": macs}))
"""


def random_weights(tree: dict) -> dict:
    """Random weights of the right shapes for every convolution of ``tree``."""
    import numpy as np

    rng = np.random.default_rng(0)
    channels = {"image": 3}
    weights = {}
    for layer in tree["layer"]:
        kind, name, bottoms = layer["type"][0], layer["name"][0], layer.get("bottom", [])
        top = layer["top"][0]
        if kind == "Convolution":
            params = layer["convolution_param"][0]
            out, k = params["num_output"][0], params["kernel_size"][0]
            weights[name] = [rng.normal(0, 0.01, (out, channels[bottoms[0]], k, k)).astype(np.float32),
                             np.zeros(out, np.float32)]
            channels[top] = out
        elif kind == "Concat":
            channels[top] = sum(channels[b] for b in bottoms)
        else:
            channels[top] = channels[bottoms[0]]
    return weights


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | 0x80 if value else byte)
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def write_replica(folder: Path, stages: int = 6) -> Path:
    """The replica as files, as a user installs CMU's: ``pose_deploy_linevec.prototxt`` and a
    ``.caffemodel`` with random weights (protobuf wire format: NetParameter.layer = name, type,
    blobs of shape and packed floats). Returns ``folder``."""
    from pose.caffe_format import parse_prototxt

    folder.mkdir(parents=True, exist_ok=True)
    text = coco_prototxt(stages)
    (folder / "pose_deploy_linevec.prototxt").write_text(text)
    layers = []
    for name, blobs in random_weights(parse_prototxt(text)).items():
        encoded = b"".join(_field(7, _field(7, _field(1, b"".join(_varint(d) for d in b.shape)))
                                  + _field(5, b.astype("<f4").tobytes())) for b in blobs)
        layers.append(_field(100, _field(1, name.encode()) + _field(2, b"Convolution") + encoded))
    (folder / "pose_iter_replica.caffemodel").write_bytes(b"".join(layers))
    return folder


def macs_per_pixel(tree: dict) -> float:
    """Multiply-adds of the convolutions per network input pixel."""
    scale = {"image": 1.0}
    channels = {"image": 3}
    total = 0.0
    for layer in tree["layer"]:
        kind, bottoms, top = layer["type"][0], layer.get("bottom", []), layer["top"][0]
        if kind == "Convolution":
            params = layer["convolution_param"][0]
            out, k = params["num_output"][0], params["kernel_size"][0]
            total += channels[bottoms[0]] * out * k * k * scale[bottoms[0]]
            channels[top], scale[top] = out, scale[bottoms[0]]
        elif kind == "Pooling":
            channels[top], scale[top] = channels[bottoms[0]], scale[bottoms[0]] / 4
        elif kind == "Concat":
            channels[top], scale[top] = sum(channels[b] for b in bottoms), scale[bottoms[0]]
        else:
            channels[top], scale[top] = channels[bottoms[0]], scale[bottoms[0]]
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--height", type=int, default=368)
    parser.add_argument("--width", type=int, default=496)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--stages", type=int, default=6)
    args = parser.parse_args(argv)
    rows = {}
    for which in ("mobilenet_thin", "openpose-caffe-coco replica"):
        done = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT), which, str(args.height), str(args.width),
                               str(args.repeats), str(args.stages)], capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            print(done.stderr[-2000:], file=sys.stderr)
            return 1
        rows[which] = json.loads(done.stdout.strip().splitlines()[-1])
    base = rows["mobilenet_thin"]
    print(f"network input {args.width}x{args.height}, OpenVINO f32, one request; medians of {args.repeats}")
    print(f"{'network':<30}{'ms/frame':>10}{'x':>7}{'RSS loaded MiB':>16}{'RSS peak MiB':>14}{'x (peak)':>10}")
    for name, row in rows.items():
        print(f"{name:<30}{row['ms']:>10.1f}{row['ms'] / base['ms']:>7.1f}{row['rss_loaded']:>16.0f}"
              f"{row['rss_peak']:>14.0f}{row['rss_peak'] / base['rss_peak']:>10.1f}")
    macs = rows["openpose-caffe-coco replica"]["macs"]
    print(f"COCO replica: {macs / 1e6:.2f} M multiply-adds per input pixel "
          f"({2 * macs * args.width * args.height / 1e9:.0f} GFLOPs a frame), {rows['openpose-caffe-coco replica']['channels']} "
          "output channels")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Small OpenPose-style Caffe models for the tests: a prototxt of each output layout and a
matching .caffemodel with random weights.

CMU's weights cannot be in the tests, and Caffe itself is not installed, so the .caffemodel is
written here in protobuf's wire format by hand: a ``NetParameter`` (caffe.proto) holding only
what ``cv2.dnn.readNetFromCaffe`` reads from weights: each layer's ``name`` (field 1), ``type``
(2) and ``blobs`` (7: ``BlobProto`` with ``shape`` (7: ``BlobShape.dim``, field 1, packed
int64) and ``data`` (5, packed float)). The network: three 3x3 stride-2 convolutions (stride 8,
as OpenPose's), then a heatmap branch (``*_L2``, parts + background) and a PAF branch (``*_L1``),
concatenated heatmaps first into ``net_output``, as CMU's prototxts do.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

#: kind -> (heatmap channels incl. background, PAF channels), as CMU's models give them.
LAYOUTS = {"coco": (19, 38), "mpi": (16, 28), "body25": (26, 52)}
HIDDEN = 8


def layers(kind: str) -> list[dict]:
    """The network of ``kind``: Convolution (3x3, 1x1), ReLU, PReLU (BODY_25 uses it), MAX
    Pooling (2x2 stride 2, as CMU's) and the final Concat; total stride 8."""
    heat, paf = LAYOUTS[kind]
    conv = lambda name, bottom, inp, out, k, s, p: {"type": "Convolution", "name": name, "bottom": bottom,  # noqa: E731
                                                    "in": inp, "out": out, "kernel": k, "stride": s, "pad": p}
    return [conv("conv1_1", "image", 3, HIDDEN, 3, 1, 1), {"type": "ReLU", "name": "relu1_1", "bottom": "conv1_1"},
            {"type": "Pooling", "name": "pool1", "bottom": "conv1_1"},
            conv("conv2_1", "pool1", HIDDEN, HIDDEN, 3, 2, 1),
            {"type": "PReLU", "name": "prelu2_1", "bottom": "conv2_1", "channels": HIDDEN},
            {"type": "Pooling", "name": "pool2", "bottom": "conv2_1"},
            conv("Mconv7_stage1_L2", "pool2", HIDDEN, heat, 1, 1, 0),
            conv("Mconv7_stage1_L1", "pool2", HIDDEN, paf, 1, 1, 0)]


def _top(layer: dict) -> str:
    return layer["bottom"] if layer["type"] in ("ReLU", "PReLU") else layer["name"]  # in place, as CMU's


def prototxt_text(kind: str, *, height: int = 64, width: int = 64) -> str:
    lines = [f'name: "tiny_openpose_{kind}"', 'input: "image"', "input_dim: 1", "input_dim: 3",
             f"input_dim: {height}", f"input_dim: {width}"]
    for layer in layers(kind):
        head = f'layer {{ name: "{layer["name"]}" type: "{layer["type"]}" bottom: "{layer["bottom"]}" top: "{_top(layer)}"'
        if layer["type"] == "Convolution":
            lines.append(f"{head} convolution_param {{ num_output: {layer['out']} pad: {layer['pad']} "
                         f"kernel_size: {layer['kernel']} stride: {layer['stride']} }} }}")
        elif layer["type"] == "Pooling":
            lines.append(f"{head}\n  pooling_param {{ pool: MAX kernel_size: 2 stride: 2 }} }}  # comment")
        else:
            lines.append(f"{head} }}")
    lines.append('layer { name: "concat_stage7" type: "Concat" bottom: "Mconv7_stage1_L2" '
                 'bottom: "Mconv7_stage1_L1" top: "net_output" concat_param { axis: 1 } }')
    return "\n".join(lines) + "\n"


def weights(kind: str, *, seed: int = 0) -> dict[str, list[np.ndarray]]:
    """Random weights (normal, std 0.3; biases std 0.1; PReLU slopes 0..0.3) of ``kind``'s layers."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[np.ndarray]] = {}
    for layer in layers(kind):
        if layer["type"] == "Convolution":
            shape = (layer["out"], layer["in"], layer["kernel"], layer["kernel"])
            out[layer["name"]] = [rng.normal(0.0, 0.3, shape).astype(np.float32),
                                  rng.normal(0.0, 0.1, (layer["out"],)).astype(np.float32)]
        elif layer["type"] == "PReLU":
            out[layer["name"]] = [rng.uniform(0.0, 0.3, (layer["channels"],)).astype(np.float32)]
    return out


def forward(kind: str, image_nchw: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """The network in plain NumPy (float64), on an already normalised NCHW input: the reference
    the OpenVINO build must match."""
    w = weights(kind, seed=seed)
    blobs = {"image": image_nchw.astype(np.float64)}
    for layer in layers(kind):
        x = blobs[layer["bottom"]]
        if layer["type"] == "Convolution":
            k, s, p = layer["kernel"], layer["stride"], layer["pad"]
            padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
            h = (padded.shape[2] - k) // s + 1
            wd = (padded.shape[3] - k) // s + 1
            out = np.zeros((x.shape[0], layer["out"], h, wd))
            for dy in range(k):
                for dx in range(k):
                    patch = padded[:, :, dy:dy + s * h:s, dx:dx + s * wd:s]
                    out += np.einsum("nchw,oc->nohw", patch, w[layer["name"]][0][:, :, dy, dx])
            y = out + w[layer["name"]][1][None, :, None, None]
        elif layer["type"] == "ReLU":
            y = np.maximum(x, 0)
        elif layer["type"] == "PReLU":
            slope = w[layer["name"]][0][None, :, None, None]
            y = np.where(x > 0, x, x * slope)
        else:  # 2x2 stride 2 max pooling, sizes rounded up as Caffe does
            n, c, h, wd = x.shape
            padded = np.pad(x, ((0, 0), (0, 0), (0, h % 2), (0, wd % 2)), constant_values=-np.inf)
            y = padded.reshape(n, c, (h + 1) // 2, 2, (wd + 1) // 2, 2).max(axis=(3, 5))
        blobs[_top(layer)] = y
    return np.concatenate([blobs["Mconv7_stage1_L2"], blobs["Mconv7_stage1_L1"]], axis=1)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _blob(array: np.ndarray) -> bytes:
    shape = _field(1, b"".join(_varint(d) for d in array.shape))
    data = _field(5, struct.pack(f"<{array.size}f", *array.astype(np.float32).ravel()))
    return _field(7, shape) + data


def caffemodel_bytes(kind: str, *, seed: int = 0) -> bytes:
    """A NetParameter holding :func:`weights` (``layer``, field 100, as Caffe writes today)."""
    parts = []
    for name, blobs in weights(kind, seed=seed).items():
        layer_type = b"PReLU" if len(blobs) == 1 else b"Convolution"
        parts.append(_field(100, _field(1, name.encode()) + _field(2, layer_type)
                            + b"".join(_field(7, _blob(b)) for b in blobs)))
    return _field(1, f"tiny_openpose_{kind}".encode()) + b"".join(parts)


def write_model(folder: Path, kind: str, *, seed: int = 0, weights_of: str | None = None) -> tuple[Path, Path]:
    """Write ``pose_deploy.prototxt`` (``kind``) and ``pose_iter_1.caffemodel`` (the weights of
    ``weights_of``, default ``kind``: another kind makes a mismatched pair) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    prototxt, caffemodel = folder / "pose_deploy.prototxt", folder / "pose_iter_1.caffemodel"
    prototxt.write_text(prototxt_text(kind))
    caffemodel.write_bytes(caffemodel_bytes(weights_of or kind, seed=seed))
    return prototxt, caffemodel


#: A standing person in output cells (x, y), every part any of the three skeletons names.
STANDING = {"nose": (16, 3), "head_top": (16, 2), "neck": (16, 5), "chest": (16, 8), "mid_hip": (16, 11),
            "right_eye": (15, 2), "left_eye": (17, 2), "right_ear": (14, 3), "left_ear": (18, 3),
            "right_shoulder": (13, 5), "left_shoulder": (19, 5), "right_elbow": (11, 8), "left_elbow": (21, 8),
            "right_wrist": (10, 11), "left_wrist": (22, 11), "right_hip": (14, 11), "left_hip": (18, 11),
            "right_knee": (14, 15), "left_knee": (18, 15), "right_ankle": (14, 19), "left_ankle": (18, 19),
            "right_heel": (13, 21), "left_heel": (19, 21), "right_big_toe": (11, 22),
            "left_big_toe": (21, 22), "right_small_toe": (12, 23), "left_small_toe": (20, 23)}


def person_maps(layout, points: dict[int, tuple[float, float]], size: tuple[int, int]) -> np.ndarray:
    """Network output (NHWC without N, ``size`` = (h, w) cells) of ``layout`` (a
    pose.assembly.PafLayout) holding one person: a Gaussian peak per part at ``points`` (cell x,
    y) and, for each limb between two of them, its unit vector in the PAF cells along the limb."""
    h, w = size
    out = np.zeros((h, w, layout.num_channels), np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    for part, (x, y) in points.items():
        out[:, :, part] = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / 1.0)
    for (a, b), (cx, cy) in zip(layout.limbs, layout.absolute_paf_channels):
        if a not in points or b not in points:
            continue
        (xa, ya), (xb, yb) = points[a], points[b]
        length = np.hypot(xb - xa, yb - ya)
        ux, uy = (xb - xa) / length, (yb - ya) / length
        for t in np.linspace(0, 1, 40):
            px, py = xa + t * (xb - xa), ya + t * (yb - ya)
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    ix, iy = int(round(px)) + dx, int(round(py)) + dy
                    if 0 <= ix < w and 0 <= iy < h:
                        out[iy, ix, cx], out[iy, ix, cy] = ux, uy
    return out


def _painting_kernel(pattern: np.ndarray) -> np.ndarray:
    """(C, h, w) output pattern -> the (C, 1, 2h-1, 2w-1) kernel that, on an all-ones (h, w)
    map padded by (h-1, w-1), gives exactly that pattern (a 2-D finite difference of it)."""
    c, h, w = pattern.shape
    flipped = np.zeros((c, h + 1, w + 1), np.float64)
    flipped[:, :h, :w] = pattern[:, ::-1, ::-1]
    diff = flipped[:, :-1, :-1] - flipped[:, 1:, :-1] - flipped[:, :-1, 1:] + flipped[:, 1:, 1:]
    kernel = np.zeros((c, 1, 2 * h - 1, 2 * w - 1), np.float32)
    kernel[:, 0, :h, :w] = diff
    return kernel


def write_painted_model(folder: Path, kind: str, layout, skeleton, *, size: tuple[int, int]) -> None:
    """A model of ``kind`` whose output is always one standing person (:data:`STANDING`, every
    part of ``skeleton``), on a network input of exactly ``size`` = (h, w) output cells (x8
    pixels): an 8x8 stride-8 convolution with zero weights and bias 1 gives an all-ones map; a
    convolution per branch paints the heatmaps and the PAFs on it. A real job with it has one
    person, tracked over every frame, whose angles are known."""
    h, w = size
    points = {i: STANDING[name] for i, name in enumerate(skeleton.part_names)}
    maps = person_maps(layout, points, size).transpose(2, 0, 1)
    heat = layout.num_parts + 1
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f'name: "painted_{kind}"', 'input: "image"', "input_dim: 1", "input_dim: 3",
             f"input_dim: {8 * h}", f"input_dim: {8 * w}",
             'layer { name: "ones" type: "Convolution" bottom: "image" top: "ones" '
             "convolution_param { num_output: 1 kernel_size: 8 stride: 8 } }"]
    blobs = {"ones": [np.zeros((1, 3, 8, 8), np.float32), np.ones(1, np.float32)]}
    for name, channels in (("Mconv7_stage1_L2", maps[:heat]), ("Mconv7_stage1_L1", maps[heat:])):
        lines.append(f'layer {{ name: "{name}" type: "Convolution" bottom: "ones" top: "{name}" convolution_param '
                     f"{{ num_output: {len(channels)} kernel_h: {2 * h - 1} kernel_w: {2 * w - 1} pad_h: {h - 1} "
                     f"pad_w: {w - 1} }} }}")
        blobs[name] = [_painting_kernel(channels), np.zeros(len(channels), np.float32)]
    lines.append('layer { name: "concat_stage7" type: "Concat" bottom: "Mconv7_stage1_L2" '
                 'bottom: "Mconv7_stage1_L1" top: "net_output" }')
    (folder / "pose_deploy.prototxt").write_text("\n".join(lines) + "\n")
    parts = [_field(100, _field(1, name.encode()) + _field(2, b"Convolution")
                     + b"".join(_field(7, _blob(b)) for b in layer)) for name, layer in blobs.items()]
    (folder / "pose_iter_1.caffemodel").write_bytes(_field(1, b"painted") + b"".join(parts))

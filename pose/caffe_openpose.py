"""CMU's OpenPose Caffe models (COCO 18 parts, MPI 15, BODY_25 25 with feet), run from the
user's own files with OpenVINO.

OpenCV 5 no longer reads Caffe models, so the network is rebuilt from the files
(:mod:`pose.caffe_format`): each prototxt layer (Input, Convolution, ReLU, PReLU, Pooling,
Concat; anything else is refused by name) becomes an OpenVINO operation with the caffemodel's
weights, checked shape by shape. The kind is recognised from the prototxt alone, by the channels
of its output (heatmaps first, then PAFs, as CMU's ``net_output``):

======  =========  ==========================  ================
kind    channels   parts + background, PAFs    skeleton
======  =========  ==========================  ================
coco    57         18 + 1, 19 x 2              ``OPENPOSE_18``
mpi     44         15 + 1, 14 x 2              ``MPI_15``
body25  78         25 + 1, 26 x 2              ``BODY_25``
======  =========  ==========================  ================

Input convention (:class:`InputConvention`): the network sees ``(BGR - mean) * scale``; OpenPose
feeds ``x/256 - 0.5`` (:data:`OPENPOSE_INPUT`, the default); OpenCV's demos ``x/255``
(:data:`OPENCV_DEMO_INPUT`). The backend follows :class:`pose.backends.base.InferenceBackend`:
NHWC BGR 0..255 in, NHWC out, so :class:`pose.estimator.PoseEstimator` runs it with the kind's
layout and skeleton.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pose.assembly import OPENPOSE_LAYOUT, PafLayout
from pose.backends.base import check_batch
from pose.caffe_format import CaffeFormatError, read_caffemodel, read_prototxt
from pose.errors import BackendUnavailableError, ModelLoadError
from pose.skeleton import (BODY25_EXTEND_ONLY, BODY25_LIMB_PAF_CHANNELS, BODY25_PAF_LIMBS, BODY_25,
                           MPI_15, MPI_LIMB_PAF_CHANNELS, MPI_LIMBS, OPENPOSE_18, Skeleton)


@dataclass(frozen=True)
class CaffeKind:
    name: str
    layout: PafLayout
    skeleton: Skeleton

    @property
    def channels(self) -> int:
        return self.layout.num_channels


KINDS: dict[str, CaffeKind] = {
    "coco": CaffeKind("coco", OPENPOSE_LAYOUT, OPENPOSE_18),
    "mpi": CaffeKind("mpi", PafLayout(15, MPI_LIMBS, MPI_LIMB_PAF_CHANNELS), MPI_15),
    "body25": CaffeKind("body25", PafLayout(25, BODY25_PAF_LIMBS, BODY25_LIMB_PAF_CHANNELS,
                                            frozenset(BODY25_EXTEND_ONLY)), BODY_25),
}
_BY_CHANNELS = {kind.channels: kind for kind in KINDS.values()}


@dataclass(frozen=True)
class InputConvention:
    """The network sees ``(bgr - mean) * scale`` (BGR order, 0..255 pixels)."""

    scale: float = 1 / 256
    mean: float = 128.0


OPENPOSE_INPUT = InputConvention(1 / 256, 128.0)  # x/256 - 0.5, OpenPose's own
OPENCV_DEMO_INPUT = InputConvention(1 / 255, 0.0)  # OpenCV's openpose.py sample


def find_caffe_files(path: Path) -> tuple[Path, Path]:
    """(prototxt, caffemodel) from a folder holding one of each (OpenPose's ``pose_deploy*``
    prototxt is preferred where a folder holds several), a prototxt or a caffemodel (its partner
    beside it). Raises ModelLoadError naming what is missing."""
    path = Path(path)
    if path.is_dir():
        folder, prototxt, weights = path, None, None
    elif path.suffix == ".prototxt" and path.is_file():
        folder, prototxt, weights = path.parent, path, None
    elif path.suffix == ".caffemodel" and path.is_file():
        folder, prototxt, weights = path.parent, None, path
    elif not path.exists():
        raise ModelLoadError(f"{path} not found: give the folder of an OpenPose Caffe model, or its .prototxt")
    else:
        raise ModelLoadError(f"{path} is neither a folder nor a .prototxt or .caffemodel file")
    prototxt = prototxt or _one(folder, "*.prototxt", prefer="pose_deploy")
    weights = weights or _one(folder, "*.caffemodel")
    return prototxt, weights


def _one(folder: Path, pattern: str, prefer: str = "") -> Path:
    found = sorted(p for p in folder.glob(pattern) if p.is_file())
    if len(found) > 1:
        exact = [p for p in found if p.stem in (prefer, prefer + "_linevec")]
        if len(exact) == 1:
            return exact[0]
    if len(found) != 1:
        what = "no" if not found else f"{len(found)} ({', '.join(p.name for p in found)}), not one"
        raise ModelLoadError(f"{folder} holds {what} {pattern[1:]} file: an OpenPose Caffe model is one .prototxt "
                             "and its .caffemodel")
    return found[0]


def _layers(tree: dict) -> list[dict]:
    layers = tree.get("layer") or tree.get("layers") or []
    return [{k: v for k, v in layer.items()} for layer in layers]


def _param(layer: dict, group: str, name: str, default):
    values = (layer.get(group) or [{}])[0].get(name)
    return values[0] if values else default


def _pair(layer: dict, group: str, name: str, default: int) -> tuple[int, int]:
    params = (layer.get(group) or [{}])[0]
    if f"{name}_h" in params:
        return int(params[f"{name}_h"][0]), int(params.get(f"{name}_w", params[f"{name}_h"])[0])
    values = params.get(name if name != "kernel" else "kernel_size")
    if not values:
        return default, default
    return int(values[0]), int(values[-1])


def recognise(prototxt: Path) -> CaffeKind:
    """The kind of the network in ``prototxt``, from the channels of its output (read, not
    run). Raises ModelLoadError when it is not a Caffe prototxt or not an OpenPose layout."""
    try:
        tree = read_prototxt(prototxt)
    except CaffeFormatError as exc:
        raise ModelLoadError(str(exc)) from None
    channels = _output_channels(prototxt, _layers(tree), tree)
    kind = _BY_CHANNELS.get(channels)
    if kind is None:
        known = ", ".join(f"{k.name} {k.channels}" for k in KINDS.values())
        raise ModelLoadError(f"{prototxt.name} gives {channels} output channels, which is none of OpenPose's "
                             f"layouts ({known}): not an OpenPose pose model")
    return kind


def _output_channels(prototxt: Path, layers: list[dict], tree: dict) -> int:
    channels: dict[str, int] = {name: 3 for name in tree.get("input", [])}
    last = None
    for layer in layers:
        kind = _param(layer, "type", "", None) if False else (layer.get("type") or [""])[0]
        bottoms, tops = layer.get("bottom", []), layer.get("top", [])
        if kind == "Input":
            for top in tops:
                channels[top] = 3
        elif kind == "Convolution":
            channels[tops[0]] = int(_param(layer, "convolution_param", "num_output", 0))
        elif kind == "Concat":
            missing = [b for b in bottoms if b not in channels]
            if missing:
                raise ModelLoadError(f"{prototxt.name}: layer {layer.get('name', ['?'])[0]!r} reads {missing[0]!r}, "
                                     "which no layer before it makes")
            channels[tops[0]] = sum(channels[b] for b in bottoms)
        elif kind in ("ReLU", "PReLU", "Pooling", "Split", "Dropout"):
            for top in tops:
                channels[top] = channels.get(bottoms[0], 0) if bottoms else 0
        else:
            raise ModelLoadError(f"{prototxt.name}: layer type {kind!r} is not one OpenPose's pose models use "
                                 "(Input, Convolution, ReLU, PReLU, Pooling, Concat)")
        last = tops[0] if tops else last
    if last is None:
        raise ModelLoadError(f"{prototxt.name} is not a Caffe prototxt: it names no layers")
    return channels.get(last, 0)


class CaffeOpenPoseBackend:
    """An OpenPose Caffe model (prototxt + caffemodel) compiled with OpenVINO on the CPU, f32.

    Implements :class:`pose.backends.base.InferenceBackend` (NHWC BGR 0..255 in; NHWC
    ``kind.channels`` out). ``kind``: the recognised :class:`CaffeKind`. Calls are serialised.
    Raises ModelLoadError for unreadable, truncated or mismatched files (nothing is kept).
    """

    name = "openvino"
    precision = "f32"
    device = "cpu"
    parallel_requests = 1

    def __init__(self, prototxt: Path, caffemodel: Path, *, expect: str | None = None,
                 input_convention: InputConvention = OPENPOSE_INPUT, num_threads: int | None = None) -> None:
        try:
            import openvino
        except ImportError as exc:
            raise BackendUnavailableError(f"OpenPose's Caffe models run with OpenVINO, which is not installed ({exc})")
        self.kind = recognise(prototxt)
        if expect is not None and expect != self.kind.name:
            raise ModelLoadError(f"{prototxt.name} is an OpenPose {self.kind.name} model ({self.kind.channels} output "
                                 f"channels), not {expect}: put it under the openpose-caffe-{self.kind.name} model")
        try:
            weights = read_caffemodel(caffemodel)
        except (CaffeFormatError, OSError) as exc:
            raise ModelLoadError(str(exc)) from None
        tree = read_prototxt(prototxt)
        model = _build(openvino, tree, weights, prototxt=prototxt, caffemodel=caffemodel,
                       convention=input_convention)
        config = {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY"}
        if num_threads is not None:
            config["INFERENCE_NUM_THREADS"] = int(num_threads)
        try:
            self._compiled = openvino.Core().compile_model(model, "CPU", config)
        except Exception as exc:  # noqa: BLE001 - OpenVINO raises RuntimeError for anything
            reason = (str(exc).strip().splitlines() or ["unknown error"])[0][:200]
            raise ModelLoadError(f"OpenVINO could not compile {prototxt.name}: {reason}") from None
        self._request = self._compiled.create_infer_request()
        self._lock = threading.Lock()
        self.input_convention = input_convention
        self.files = (prototxt, caffemodel)

    def infer(self, batch: np.ndarray) -> np.ndarray:
        """float32 NHWC [N, H, W, 3] BGR 0..255 -> float32 NHWC [N, H/8, W/8, kind.channels]."""
        batch = check_batch(batch)
        with self._lock:
            self._request.infer({0: batch})
            return np.array(self._request.get_output_tensor(0).data, dtype=np.float32, copy=True)


def _build(ov, tree: dict, weights: dict[str, list[np.ndarray]], *, prototxt: Path, caffemodel: Path,
           convention: InputConvention):
    """The OpenVINO model of ``tree`` with ``weights``: NHWC BGR 0..255 in, NHWC out."""
    import openvino.opset13 as ops

    image = ops.parameter([-1, -1, -1, 3], np.float32, name="image")
    nchw = ops.transpose(image, ops.constant(np.array([0, 3, 1, 2], np.int64)))
    normalised = ops.multiply(ops.subtract(nchw, ops.constant(np.float32(convention.mean))),
                              ops.constant(np.float32(convention.scale)))
    normalised = normalised.output(0)
    blobs = {name: normalised for name in tree.get("input", [])}
    last = None

    def blobs_of(layer_name: str, expected: list[tuple[int, ...]]) -> list[np.ndarray]:
        found = weights.get(layer_name)
        shapes = [tuple(b.shape) for b in found] if found else None
        if found is None or len(found) < len(expected) or any(
                int(np.prod(b.shape)) != int(np.prod(e)) for b, e in zip(found, expected)):
            raise ModelLoadError(f"the weights in {caffemodel.name} do not fit {prototxt.name}: layer {layer_name!r} "
                                 f"needs blobs of shape {expected}, the file has {shapes or 'none'} (weights of "
                                 "another model?)")
        return [b.reshape(e) for b, e in zip(found, expected)]

    for layer in _layers(tree):
        kind, name = (layer.get("type") or [""])[0], (layer.get("name") or ["?"])[0]
        bottoms, tops = layer.get("bottom", []), layer.get("top", [])
        if kind == "Input":
            for top in tops:
                blobs[top] = normalised
            continue
        inputs = [blobs[b] for b in bottoms]
        if kind == "Convolution":
            out = int(_param(layer, "convolution_param", "num_output", 0))
            kh, kw = _pair(layer, "convolution_param", "kernel", 1)
            sh, sw = _pair(layer, "convolution_param", "stride", 1)
            ph, pw = _pair(layer, "convolution_param", "pad", 0)
            dh, dw = _pair(layer, "convolution_param", "dilation", 1)
            if int(_param(layer, "convolution_param", "group", 1)) != 1:
                raise ModelLoadError(f"{prototxt.name}: grouped convolution {name!r} is not supported")
            in_channels = inputs[0].get_partial_shape()[1].get_length()
            has_bias = bool(_param(layer, "convolution_param", "bias_term", True))
            expected = [(out, in_channels, kh, kw)] + ([(out,)] if has_bias else [])
            found = blobs_of(name, expected)
            node = ops.convolution(inputs[0], ops.constant(found[0]), [sh, sw], [ph, pw], [ph, pw], [dh, dw])
            if has_bias:
                node = ops.add(node, ops.constant(found[1].reshape(1, out, 1, 1)))
        elif kind == "ReLU":
            slope = float(_param(layer, "relu_param", "negative_slope", 0.0))
            node = ops.relu(inputs[0]) if slope == 0 else ops.prelu(inputs[0], ops.constant(np.float32([slope])))
        elif kind == "PReLU":
            channels = inputs[0].get_partial_shape()[1].get_length()
            slope = blobs_of(name, [(channels,)])[0]
            node = ops.prelu(inputs[0], ops.constant(slope))
        elif kind == "Pooling":
            method = str(_param(layer, "pooling_param", "pool", "MAX"))
            kh, kw = _pair(layer, "pooling_param", "kernel", 1)
            sh, sw = _pair(layer, "pooling_param", "stride", 1)
            ph, pw = _pair(layer, "pooling_param", "pad", 0)
            if method not in ("MAX", "0"):
                raise ModelLoadError(f"{prototxt.name}: {method} pooling ({name!r}) is not supported")
            node = ops.max_pool(inputs[0], [sh, sw], [1, 1], [ph, pw], [ph, pw], [kh, kw],
                                rounding_type="ceil")  # Caffe rounds pooled sizes up
        elif kind == "Concat":
            node = ops.concat(inputs, int(_param(layer, "concat_param", "axis", 1)))
        elif kind in ("Split", "Dropout"):
            node = inputs[0]
        else:
            raise ModelLoadError(f"{prototxt.name}: layer type {kind!r} is not supported")
        for top in tops:
            blobs[top] = node if isinstance(node, ov.Output) else node.output(0)
        last = tops[0] if tops else last
    output = ops.transpose(blobs[last], ops.constant(np.array([0, 2, 3, 1], np.int64)))
    return ov.Model([output.output(0)], [image], "openpose_caffe")


def load_caffe_estimator(path: Path, *, expect: str | None = None, input_convention: InputConvention = OPENPOSE_INPUT,
                         net_height: int = 368, net_width: int | None = None, upsample: int | None = None,
                         num_threads: int | None = None):
    """A :class:`pose.estimator.PoseEstimator` for the OpenPose Caffe model at ``path`` (a folder,
    a prototxt or a caffemodel; see :func:`find_caffe_files`) with its kind's layout and skeleton.
    expect: the kind it must be ("coco", "mpi", "body25"), None for any."""
    from pose.assembly import DEFAULT_UPSAMPLE
    from pose.estimator import PoseEstimator

    prototxt, caffemodel = find_caffe_files(path)
    backend = CaffeOpenPoseBackend(prototxt, caffemodel, expect=expect, input_convention=input_convention,
                                   num_threads=num_threads)
    return PoseEstimator(backend, net_height=net_height, net_width=net_width,
                         upsample=DEFAULT_UPSAMPLE if upsample is None else upsample,
                         layout=backend.kind.layout, skeleton=backend.kind.skeleton)

"""The OpenPose mobilenet_thin graph as a PyTorch module, built from ``graph_opt.onnx``'s weights.

``make onnx`` writes the graph with five operators only: Conv (143, weights and an optional bias),
Relu, MaxPool (one, 2x2 stride 2), Concat (on channels) and the two Transposes NHWC <-> NCHW at
its ends. :func:`build_network` reads the file (:mod:`pose.backends.onnx_reader`) and returns a
:class:`GraphNetwork` that runs the same nodes in the same order with the same weights, as
``torch.nn.functional`` calls, on NCHW tensors (the two Transposes are left out: the caller's
tensors are NCHW, in memory format ``channels_last`` on a GPU).

Padding: every Conv says ``auto_pad=SAME_UPPER`` (TensorFlow's "SAME"): the output is
``ceil(in / stride)`` and any odd padding goes after. The network's input H and W are multiples of
8 (its stride), so each of the three stride-2 layers sees an even size, and the padding is known
when the module is built: stride 1 pads ``k // 2`` on both sides, 3x3 stride 2 pads 0 before and 1
after (on the right and bottom), 2x2 stride 2 (the MaxPool) none.

Why this rather than ``onnx2torch``: it refuses ``auto_pad`` (so the file would be rewritten in
memory first), it needs the ``onnx`` package (protobuf >= 6, which the blazepose extra's mediapipe
refuses) and ``torchvision``, which on a host without PyTorch would pull a second CUDA build. The
five operators fit in a page.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pose.backends.onnx_reader import OnnxGraph, read_onnx
from pose.errors import ModelLoadError

OPERATORS = ("Conv", "Relu", "MaxPool", "Concat", "Transpose")
_NHWC_TO_NCHW, _NCHW_TO_NHWC = [0, 3, 1, 2], [0, 2, 3, 1]


def _same_upper_pad(kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) padding of SAME_UPPER along one axis of an even-sized input."""
    if stride == 1:
        if kernel % 2 == 0:
            raise ModelLoadError(f"a stride-1 layer with an even kernel ({kernel}) is not in this graph")
        return kernel // 2, kernel // 2
    if stride == 2 and kernel in (1, 2, 3):
        total = max(kernel - 2, 0)
        return total // 2, total - total // 2
    raise ModelLoadError(f"kernel {kernel} stride {stride} is not in this graph")


class GraphNetwork(nn.Module):
    """The graph's nodes as a list of steps over named values; forward: float NCHW [N, 3, H, W]
    BGR 0..255 (H, W multiples of 8) -> [N, 57, H/8, W/8] in the module's dtype."""

    def __init__(self, graph: OnnxGraph) -> None:
        super().__init__()
        unknown = sorted({n.op_type for n in graph.nodes} - set(OPERATORS))
        if unknown:
            raise ModelLoadError(f"the ONNX model has operators the torch backend does not run: {', '.join(unknown)}")
        if len(graph.inputs) != 1 or len(graph.outputs) != 1:
            raise ModelLoadError("the ONNX model must have one input and one output (graph_opt.onnx has)")
        self.input_name, self.output_name = graph.inputs[0], graph.outputs[0]
        self.steps: list[tuple] = []
        self._weights = nn.ParameterList()
        for node in graph.nodes:
            self.steps.append(self._step(node, graph))

    def _param(self, array: np.ndarray) -> int:
        self._weights.append(nn.Parameter(torch.from_numpy(np.ascontiguousarray(array, np.float32)),
                                          requires_grad=False))
        return len(self._weights) - 1

    def _step(self, node, graph: OnnxGraph) -> tuple:
        a, src, dst = node.attributes, node.inputs, node.outputs[0]
        if node.op_type == "Transpose":
            if src[0] == self.input_name and a.get("perm") == _NHWC_TO_NCHW:
                return ("alias", [src[0]], dst, None)
            if dst == self.output_name and a.get("perm") == _NCHW_TO_NHWC:
                return ("alias", [src[0]], dst, None)
            raise ModelLoadError(f"a Transpose {a.get('perm')} inside the graph is not supported")
        if node.op_type == "Conv":
            if a.get("auto_pad", "NOTSET") != "SAME_UPPER" or list(a.get("dilations", [1, 1])) != [1, 1]:
                raise ModelLoadError("the torch backend runs Conv with auto_pad SAME_UPPER and no dilation only")
            kh, kw = graph.weights[src[1]].shape[2:]
            (sh, sw) = a.get("strides", [1, 1])
            (top, bottom), (left, right) = _same_upper_pad(kh, sh), _same_upper_pad(kw, sw)
            weight = self._param(graph.weights[src[1]])
            bias = self._param(graph.weights[src[2]]) if len(src) > 2 else None
            symmetric = top == bottom and left == right
            return ("conv", [src[0]], dst, (weight, bias, (sh, sw), int(a.get("group", 1)),
                                            (top, left) if symmetric else (0, 0),
                                            None if symmetric else (left, right, top, bottom)))
        if node.op_type == "MaxPool":
            if list(a.get("kernel_shape", [])) != [2, 2] or list(a.get("strides", [])) != [2, 2]:
                raise ModelLoadError("the torch backend runs a 2x2 stride-2 MaxPool only")
            return ("maxpool", [src[0]], dst, None)
        if node.op_type == "Concat":
            if a.get("axis") != 1:
                raise ModelLoadError("the torch backend concatenates on channels (axis 1) only")
            return ("concat", list(src), dst, None)
        return ("relu", [src[0]], dst, None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values = {self.input_name: x}
        weights = self._weights
        for kind, src, dst, extra in self.steps:
            if kind == "conv":
                w, b, stride, groups, padding, explicit = extra
                value = values[src[0]]
                if explicit is not None:
                    value = F.pad(value, explicit)
                values[dst] = F.conv2d(value, weights[w], None if b is None else weights[b], stride, padding, 1, groups)
            elif kind == "relu":
                values[dst] = F.relu(values[src[0]], inplace=True)
            elif kind == "concat":
                values[dst] = torch.cat([values[s] for s in src], dim=1)
            elif kind == "maxpool":
                values[dst] = F.max_pool2d(values[src[0]], 2, 2)
            else:
                values[dst] = values[src[0]]
        return values[self.output_name]


def build_network(onnx_path: str | Path) -> GraphNetwork:
    """The graph at ``onnx_path`` as a :class:`GraphNetwork` on the CPU, float32, in eval mode.
    Raises ModelLoadError when the file cannot be read or holds operators it does not run."""
    return GraphNetwork(read_onnx(onnx_path)).eval()

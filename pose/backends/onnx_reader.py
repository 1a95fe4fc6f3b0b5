"""Read the nodes and weights of an ONNX model without the ``onnx`` package.

The torch backend builds its network from ``graph_opt.onnx`` (see :mod:`pose.backends.torch_graph`).
The ``onnx`` package would need protobuf >= 6, which the blazepose extra's mediapipe refuses
(< 5), and onnx2torch would also bring torchvision; an ONNX file is a protobuf message whose few
fields used here are read directly from its wire format (protobuf's own, stable encoding):

- ModelProto: 7 graph; GraphProto: 1 node, 5 initializer, 11 input, 12 output;
- NodeProto: 1 input, 2 output, 3 name, 4 op_type, 5 attribute;
- AttributeProto: 1 name, 3 i, 4 s, 8 ints, 20 type;
- TensorProto: 1 dims, 2 data_type (1 = float32), 4 float_data, 8 name, 9 raw_data.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pose.errors import ModelLoadError

_FLOAT32 = 1


@dataclass
class OnnxNode:
    """op_type (e.g. "Conv"), input and output value names, attributes (int, list of ints or str)."""

    op_type: str
    inputs: list[str]
    outputs: list[str]
    attributes: dict[str, int | list[int] | str] = field(default_factory=dict)


@dataclass
class OnnxGraph:
    """nodes in topological order; weights: float32 arrays by name; inputs/outputs: value names."""

    nodes: list[OnnxNode]
    weights: dict[str, np.ndarray]
    inputs: list[str]
    outputs: list[str]


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes):
    """(field number, wire type, value) of each field of one message: an int for varints, bytes
    for length-delimited fields, raw bytes for fixed 32/64-bit ones."""
    pos, end = 0, len(data)
    while pos < end:
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, value


def _ints(wire: int, value) -> list[int]:
    """A repeated int64 field: one varint, or a packed run of them."""
    if wire == 0:
        return [value - (1 << 64) if value >= 1 << 63 else value]
    out, pos = [], 0
    while pos < len(value):
        item, pos = _varint(value, pos)
        out.append(item - (1 << 64) if item >= 1 << 63 else item)
    return out


def _attribute(data: bytes) -> tuple[str, int | list[int] | str]:
    name, scalar, text, ints = "", None, None, []
    for number, wire, value in _fields(data):
        if number == 1:
            name = value.decode()
        elif number == 3:
            scalar = _ints(wire, value)[0]
        elif number == 4:
            text = value.decode()
        elif number == 8:
            ints.extend(_ints(wire, value))
    return name, scalar if scalar is not None else text if text is not None else ints


def _node(data: bytes) -> OnnxNode:
    node = OnnxNode(op_type="", inputs=[], outputs=[])
    for number, _, value in _fields(data):
        if number == 1:
            node.inputs.append(value.decode())
        elif number == 2:
            node.outputs.append(value.decode())
        elif number == 4:
            node.op_type = value.decode()
        elif number == 5:
            key, attr = _attribute(value)
            node.attributes[key] = attr
    return node


def _tensor(data: bytes) -> tuple[str, np.ndarray]:
    dims, dtype, name, raw, floats = [], None, "", None, []
    for number, wire, value in _fields(data):
        if number == 1:
            dims.extend(_ints(wire, value))
        elif number == 2:
            dtype = value
        elif number == 4:
            floats.extend(struct.unpack(f"<{len(value) // 4}f", value) if wire == 2 else [struct.unpack("<f", value)[0]])
        elif number == 8:
            name = value.decode()
        elif number == 9:
            raw = value
    if dtype != _FLOAT32:
        raise ValueError(f"initializer {name} has ONNX data type {dtype}; only float32 (1) is read")
    array = np.frombuffer(raw, "<f4").copy() if raw is not None else np.asarray(floats, np.float32)
    return name, array.reshape(dims)


def _value_name(data: bytes) -> str:
    return next((value.decode() for number, _, value in _fields(data) if number == 1), "")


def read_onnx(path: str | Path) -> OnnxGraph:
    """The graph of the ONNX model at ``path``. Raises ModelLoadError when it is not one this
    reader understands (not ONNX, truncated, a non-float32 weight)."""
    path = Path(path)
    try:
        model = path.read_bytes()
        graph = next(value for number, wire, value in _fields(model) if number == 7 and wire == 2)
        nodes, weights, inputs, outputs = [], {}, [], []
        for number, _, value in _fields(graph):
            if number == 1:
                nodes.append(_node(value))
            elif number == 5:
                name, array = _tensor(value)
                weights[name] = array
            elif number == 11:
                inputs.append(_value_name(value))
            elif number == 12:
                outputs.append(_value_name(value))
    except (OSError, StopIteration, ValueError, IndexError, UnicodeDecodeError, struct.error) as exc:
        raise ModelLoadError(f"{path} is not an ONNX model this reader understands ({type(exc).__name__}: "
                             f"{exc}): run `make onnx` to convert it again") from None
    inputs = [name for name in inputs if name not in weights]
    return OnnxGraph(nodes=nodes, weights=weights, inputs=inputs, outputs=outputs)

"""Reading Caffe's two files without Caffe: the ``.prototxt`` (protobuf text format: the network)
and the ``.caffemodel`` (protobuf binary: the weights).

OpenCV 5 removed its Caffe importer (``cv2.dnn.readNetFromCaffe``), and Caffe's own protobuf
definitions are not installed anywhere here, so both formats are read by this module: the text
format by a small tokenizer, the binary one by a wire-format decoder that knows the few fields of
caffe.proto the weights need. Everything else in the files is skipped.

- :func:`read_prototxt`: ``{field: [values]}`` trees (nested messages are dicts).
- :func:`read_caffemodel`: ``{layer name: [float32 arrays]}`` (``NetParameter.layer``, or the
  legacy ``layers`` of old models), each blob reshaped to its ``shape`` (or legacy
  num/channels/height/width).

Errors are :class:`CaffeFormatError` with one line saying what is wrong and where.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np


class CaffeFormatError(ValueError):
    """A file that is not (or not all of) a Caffe prototxt or caffemodel."""


_TOKEN = re.compile(r"""\s+|\#[^\n]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[{}:;,<>\[\]]|[^\s{}:;,<>\[\]"'#]+""")


def parse_prototxt(text: str, *, name: str = "prototxt") -> dict[str, list]:
    """Protobuf text format -> ``{field: [value, ...]}``; a message value is such a dict, a
    scalar a str, int, float or bool (enum names stay str). Raises CaffeFormatError."""
    tokens, line = [], 1
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise CaffeFormatError(f"{name} is not a Caffe prototxt: unexpected {text[position]!r} on line {line}")
        token = match.group()
        if token.strip() and not token.startswith("#"):
            tokens.append((token, line))
        line += token.count("\n")
        position = match.end()
    index = 0

    def message(closing: str | None) -> dict[str, list]:
        nonlocal index
        fields: dict[str, list] = {}
        while index < len(tokens):
            token, at = tokens[index]
            if token in ("}", ">"):
                if closing is None:
                    raise CaffeFormatError(f"{name} is not a Caffe prototxt: unmatched {token!r} on line {at}")
                index += 1
                return fields
            if token in (";", ","):
                index += 1
                continue
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", token):
                raise CaffeFormatError(f"{name} is not a Caffe prototxt: expected a field name on line {at}, "
                                       f"got {token[:40]!r}")
            index += 1
            if index < len(tokens) and tokens[index][0] == ":":
                index += 1
            if index >= len(tokens):
                raise CaffeFormatError(f"{name} is not a Caffe prototxt: field {token!r} has no value (line {at})")
            value, vat = tokens[index]
            if value in ("{", "<"):
                index += 1
                fields.setdefault(token, []).append(message(value))
            elif value in ("}", ">", ":", ";", ",", "[", "]"):
                raise CaffeFormatError(f"{name} is not a Caffe prototxt: field {token!r} has no value (line {vat})")
            else:
                index += 1
                fields.setdefault(token, []).append(_scalar(value))
        if closing is not None:
            raise CaffeFormatError(f"{name} is not a Caffe prototxt: a '{{' is never closed")
        return fields

    return message(None)


def _scalar(token: str):
    if token[0] in "\"'":
        return token[1:-1]
    if token in ("true", "True"):
        return True
    if token in ("false", "False"):
        return False
    try:
        return int(token)
    except ValueError:
        pass
    try:
        return float(token)
    except ValueError:
        return token  # an enum name (MAX, AVE ...)


def read_prototxt(path: Path) -> dict[str, list]:
    """The prototxt at ``path`` (see :func:`parse_prototxt`); it must name layers."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CaffeFormatError(f"{path} is not a Caffe prototxt (not text)") from None
    tree = parse_prototxt(text, name=str(path))
    if not tree.get("layer") and not tree.get("layers"):
        raise CaffeFormatError(f"{path} is not a Caffe prototxt: it names no layers")
    return tree


# --- the binary weights ------------------------------------------------------------------------

def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise CaffeFormatError("ends in the middle of a number")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 70:
            raise CaffeFormatError("holds a malformed number")


def _fields(data: bytes):
    """(field number, wire type, value) of one message: ints for varints, bytes otherwise."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise CaffeFormatError(f"holds an unknown wire type {wire}")
        if pos > len(data):
            raise CaffeFormatError("ends in the middle of a field (truncated?)")
        yield number, wire, value


def _packed_varints(value, wire: int) -> list[int]:
    if wire == 0:
        return [value]
    out, pos = [], 0
    while pos < len(value):
        number, pos = _varint(value, pos)
        out.append(number)
    return out


def _blob(data: bytes) -> np.ndarray:
    values: list[np.ndarray] = []
    dims: list[int] = []
    legacy = {1: 1, 2: 1, 3: 1, 4: 1}
    for number, wire, value in _fields(data):
        if number == 5:  # data: packed floats, or one float
            if wire == 2 and len(value) % 4:
                raise CaffeFormatError("holds a weight blob cut short")
            values.append(np.frombuffer(value, "<f4"))
        elif number == 7 and wire == 2:  # BlobShape
            for n, w, v in _fields(value):
                if n == 1:
                    dims.extend(_packed_varints(v, w))
        elif number in legacy and wire == 0:
            legacy[number] = value
    array = np.concatenate(values).astype(np.float32) if values else np.zeros(0, np.float32)
    shape = tuple(dims) if dims else tuple(legacy[n] for n in (1, 2, 3, 4))
    if int(np.prod(shape)) != array.size:
        raise CaffeFormatError(f"holds a blob of shape {shape} with {array.size} values")
    return array.reshape(shape)


def parse_caffemodel(data: bytes) -> dict[str, list[np.ndarray]]:
    """NetParameter bytes -> ``{layer name: [blob, ...]}`` (layers without blobs left out).
    Raises CaffeFormatError (the message starts with what the data does, e.g. "ends in the
    middle of a field")."""
    layers: dict[str, list[np.ndarray]] = {}
    for number, wire, value in _fields(data):
        if wire != 2 or number not in (100, 2):  # layer (LayerParameter) or legacy layers (V1LayerParameter)
            continue
        name_field, blob_field = (1, 7) if number == 100 else (4, 6)
        name, blobs = None, []
        for n, w, v in _fields(value):
            if n == name_field and w == 2:
                name = v.decode("utf-8", "replace")
            elif n == blob_field and w == 2:
                blobs.append(_blob(v))
        if name and blobs:
            layers[name] = blobs
    return layers


def read_caffemodel(path: Path) -> dict[str, list[np.ndarray]]:
    """The weights at ``path`` (see :func:`parse_caffemodel`); it must hold some."""
    data = Path(path).read_bytes()
    try:
        layers = parse_caffemodel(data)
    except CaffeFormatError as exc:
        raise CaffeFormatError(f"{path} is not a whole Caffe model: it {exc}") from None
    if not layers:
        raise CaffeFormatError(f"{path} is not a Caffe model: it holds no layer weights")
    return layers

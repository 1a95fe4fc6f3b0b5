"""Fixtures of the backend tests: the ONNX conversion of the real graph, and OpenVINO on the CPU
(the reference the other backends are compared with)."""
from __future__ import annotations

from pathlib import Path

import pytest

from pose import InferenceBackend, load_backend
from pose.backends import CPU
from pose.backends.onnx_model import onnx_path_for


@pytest.fixture(scope="module")
def onnx_model(model_path: Path) -> Path:
    path = onnx_path_for(model_path)
    if not path.is_file():
        pytest.skip(f"{path} not found: run `make onnx` (make test-setup does)")
    return path


@pytest.fixture(scope="module")
def openvino(model_path: Path) -> InferenceBackend:
    return load_backend("openvino", model_path, device=CPU)

"""The torch backend on the CPU (the CPU build of PyTorch), on real frames: it agrees with
OpenVINO at two sizes and batches 1 and 4, refuses what it cannot do here in one line, reads
the ONNX conversion without the onnx package, and survives a batch too large for the GPU.

No GPU here: a real CUDA out-of-memory or device fault cannot happen, so those two tests raise
torch's own exceptions at the backend's boundary (the network call) instead."""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (make test-setup installs the CPU build where "
                                            "its wheel is on disk; make setup-torch elsewhere)")

from pose import (BackendUnavailableError, DeviceFailedError, DeviceUnavailableError,  # noqa: E402
                  InferenceBackend, ModelLoadError, load_backend)
from pose.backends import CPU, Device, availability  # noqa: E402
from pose.backends.onnx_model import onnx_path_for, sidecar_path_for  # noqa: E402
from pose.backends.onnx_reader import read_onnx  # noqa: E402
from pose.backends.pytorch import TorchBackend  # noqa: E402
from pose.preprocess import prepare_input  # noqa: E402

SIZES = ((432, 368), (256, 192))  # (width, height)
FRAMES = (0, 130, 260, 390)


@pytest.fixture(scope="module")
def backend(model_path: Path, onnx_model: Path) -> TorchBackend:
    return load_backend("torch", model_path, device=CPU)


@pytest.fixture(scope="module")
def frames(videos_dir: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(videos_dir / "vtest.avi"))
    found, index = [], 0
    while len(found) < len(FRAMES):
        ok, frame = capture.read()
        assert ok
        if index in FRAMES:
            found.append(frame)
        index += 1
    capture.release()
    return found


def test_it_follows_the_contract_on_the_cpu(backend) -> None:
    assert isinstance(backend, InferenceBackend)
    assert (backend.name, backend.precision, backend.device, backend.channels_last) == ("torch", "f32", "cpu", False)
    assert backend.infer(np.zeros((2, 64, 40, 3), np.float32)).shape == (2, 8, 5, 57)  # dynamic N, H, W
    for shape in ((368, 432, 3), (1, 370, 432, 3), (1, 368, 432, 4)):
        with pytest.raises(ValueError):
            backend.infer(np.zeros(shape, np.float32))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_raw_outputs_match_openvino_at_batch_1_and_4(backend, openvino, frames, size) -> None:
    batch = np.concatenate([prepare_input(f, net_height=size[1], net_width=size[0]).tensor for f in frames])
    together = backend.infer(batch)
    assert together.shape == (4, size[1] // 8, size[0] // 8, 57) and together.dtype == np.float32
    assert np.abs(together - openvino.infer(batch)).max() <= 1e-3
    for i in (0, 3):
        alone = backend.infer(batch[i:i + 1])
        assert np.abs(alone - openvino.infer(batch[i:i + 1])).max() <= 1e-3, i
        assert np.abs(alone - together[i:i + 1]).max() <= 1e-4, i
    if size[1] >= 368:  # vtest's people are too small for a confident part at 192
        assert together[..., :18].max() > 0.5  # real people: confident part peaks


def test_channels_last_changes_nothing(model_path, onnx_model, backend, frames) -> None:
    nhwc = load_backend("torch", model_path, device=CPU)
    nhwc.network = nhwc.network.to(memory_format=torch.channels_last)
    nhwc.channels_last = True
    x = prepare_input(frames[1], net_height=192, net_width=256).tensor
    assert np.abs(nhwc.infer(x) - backend.infer(x)).max() <= 1e-4


def test_what_it_cannot_do_here_is_refused_in_one_line(model_path, onnx_model) -> None:
    if torch.version.cuda is not None and "gpu:0" in availability("torch").devices:
        pytest.skip("this machine has a GPU the torch backend can use")
    found = availability("torch")
    assert found.available and found.devices == ("cpu",) and found.precisions == {"cpu": ("f32",)}
    if torch.version.cuda is None:
        assert found.gpu_reason.startswith(f"torch {torch.__version__} is a CPU-only build (no CUDA)")
    for device in (Device("gpu"), Device("gpu", 1)):
        with pytest.raises(DeviceUnavailableError, match=f"device {device} asked for, but the torch backend has "
                                                         "no GPU here: "):
            load_backend("torch", model_path, device=device)
    for precision in ("fp16", "bf16"):
        with pytest.raises(BackendUnavailableError, match=f"runs f32 on cpu, not {precision}"):
            load_backend("torch", model_path, device=CPU, precision=precision)


def test_without_torch_it_says_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # what `import torch` meets where it is not installed
    found = TorchBackend.availability()
    assert not found.available and "the torch package is not installed" in found.reason
    assert "make setup-torch" in found.reason


def test_the_reader_finds_the_graph_the_network_runs(onnx_model) -> None:
    graph = read_onnx(onnx_model)
    assert graph.inputs == ["image:0"] and graph.outputs == ["Openpose/concat_stage7:0"]
    kinds = {n.op_type for n in graph.nodes}
    assert kinds == {"Conv", "Relu", "MaxPool", "Concat", "Transpose"}
    assert sum(n.op_type == "Conv" for n in graph.nodes) == 143
    assert sum(w.size for w in graph.weights.values()) > 1_000_000  # mobilenet_thin: about 1.9 M


@pytest.fixture
def model_copy(tmp_path: Path, model_path: Path, onnx_model: Path) -> Path:
    graph = tmp_path / "graph_opt.pb"
    for source in (model_path, onnx_model, sidecar_path_for(onnx_model)):
        shutil.copyfile(source, tmp_path / source.name)
    return graph


def _replace_onnx(graph: Path, data: bytes) -> None:
    """Write ``data`` as the conversion, with a sidecar that vouches for it."""
    onnx, sidecar = onnx_path_for(graph), sidecar_path_for(onnx_path_for(graph))
    onnx.write_bytes(data)
    record = json.loads(sidecar.read_text())
    record["onnx"]["sha256"] = hashlib.sha256(data).hexdigest()
    sidecar.write_text(json.dumps(record))


@pytest.mark.parametrize(("data", "message"), [
    (lambda good: b"not an onnx model at all", r"is not an ONNX model this reader understands .*make onnx"),
    (lambda good: good[:len(good) // 2], r"is not an ONNX model this reader understands .*make onnx"),
], ids=["garbage", "truncated"])
def test_a_file_that_matches_its_sidecar_but_is_no_model_is_a_clear_error(model_copy, data, message) -> None:
    _replace_onnx(model_copy, data(onnx_path_for(model_copy).read_bytes()))
    with pytest.raises(ModelLoadError, match=message):
        load_backend("torch", model_copy, device=CPU)


def test_a_stale_conversion_is_refused_as_for_onnxruntime(model_copy) -> None:
    sidecar_path_for(onnx_path_for(model_copy)).unlink()
    with pytest.raises(ModelLoadError, match="has no checksum file graph_opt.onnx.json .*make onnx"):
        load_backend("torch", model_copy, device=CPU)


class _FailingNetwork(torch.nn.Module):
    """The real network, raising ``error`` for batches larger than ``fits`` (a real CUDA
    out-of-memory or fault cannot happen on this machine, which has no GPU)."""

    def __init__(self, network, error: Exception, fits: int) -> None:
        super().__init__()
        self.network, self.error, self.fits, self.calls = network, error, fits, []

    def forward(self, x):
        self.calls.append(x.shape[0])
        if x.shape[0] > self.fits:
            raise self.error
        return self.network(x)


def test_a_batch_that_runs_out_of_gpu_memory_is_halved_and_goes_on(model_path, onnx_model, frames, caplog) -> None:
    backend = load_backend("torch", model_path, device=CPU)
    batch = np.concatenate([prepare_input(f, net_height=96, net_width=128).tensor for f in frames])
    expected = backend.infer(batch)
    backend.network = failing = _FailingNetwork(backend.network, torch.OutOfMemoryError("CUDA out of memory."), fits=1)
    with caplog.at_level("WARNING", logger="pose.backends.pytorch"):
        got = backend.infer(batch)
    assert np.abs(got - expected).max() <= 1e-4
    assert failing.calls == [4, 2, 1, 1, 1, 1] and backend.max_batch == 1
    assert backend.notes == ["the GPU ran out of memory for a batch of 4 frames at 128x96: batches of at most 2 "
                             "from now on",
                             "the GPU ran out of memory for a batch of 2 frames at 128x96: batches of at most 1 "
                             "from now on"]
    assert "ran out of memory" in caplog.text
    failing.calls.clear()
    assert np.abs(backend.infer(batch) - expected).max() <= 1e-4
    assert failing.calls == [1, 1, 1, 1]  # the smaller size is kept: no more failed tries


@pytest.mark.parametrize("error", [
    RuntimeError("CUDA error: an illegal memory access was encountered"),
    getattr(torch, "AcceleratorError", RuntimeError)("CUDA error: unspecified launch failure"),
    torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),  # even one frame does not fit
], ids=["illegal-address", "accelerator-error", "oom-at-batch-1"])
def test_a_cuda_error_is_a_device_failure(model_path, onnx_model, error) -> None:
    backend = load_backend("torch", model_path, device=CPU)
    backend.network = _FailingNetwork(backend.network, error, fits=0)
    with pytest.raises(DeviceFailedError, match=f"the device cpu failed: {str(error).splitlines()[0]}"):
        backend.infer(np.zeros((1, 64, 64, 3), np.float32))


def test_other_errors_pass_through_unchanged(model_path, onnx_model) -> None:
    backend = load_backend("torch", model_path, device=CPU)
    backend.network = _FailingNetwork(backend.network, ValueError("a bug"), fits=0)
    with pytest.raises(ValueError, match="a bug"):
        backend.infer(np.zeros((1, 64, 64, 3), np.float32))


def test_the_onnx_model_and_its_sidecar_are_enough(model_copy) -> None:
    """What a GPU machine is given (bench/device_check.sh carries no graph_opt.pb)."""
    model_copy.unlink()
    assert load_backend("torch", model_copy, device=CPU).infer(np.zeros((1, 16, 16, 3), np.float32)).shape == (1, 2, 2, 57)
    with pytest.raises(ModelLoadError, match="model file .*graph_opt.pb not found"):
        load_backend("onnxruntime", model_copy, device=CPU)

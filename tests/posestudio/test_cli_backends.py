"""Backends and devices through the real command line, in subprocesses: ``posestudio backends``
tells the truth about this machine, ``--device gpu`` where no GPU can be had is one line and
exit code 2 on every command that runs the model, and onnxruntime runs a video end to end."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NO_GPU_HERE = not Path("/dev/nvidia0").exists()  # what the kernel says, independent of the code under test


def posestudio(*args: object, env: dict | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "posestudio.cli", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def test_backends_json_tells_the_truth_about_this_machine(model_path: Path) -> None:
    import onnxruntime

    done = posestudio("backends", "--json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    backends = {b["name"]: b for b in found["backends"]}
    assert list(backends) == ["openvino", "onnxruntime", "opencv", "torch"]
    torch_entry = backends.pop("torch")
    try:
        import torch
    except ImportError:
        assert torch_entry["available"] is False and "the torch package is not installed" in torch_entry["reason"]
    else:
        assert torch_entry["available"] is True and torch_entry["model_error"] is None
        if torch.version.cuda is None:
            assert torch_entry["devices"] == ["cpu"] and torch_entry["precisions"] == {"cpu": ["f32"]}
            assert torch_entry["gpu_reason"].startswith(f"torch {torch.__version__} is a CPU-only build")
    for name, b in backends.items():
        assert b["available"] is True and b["reason"] is None, name
        assert "cpu" in b["devices"] and b["precisions"]["cpu"][0] == "f32", name
        assert b["model_error"] is None, (name, b["model_error"])  # make test-setup converted the model
        assert isinstance(b["device_names"]["cpu"], str)
    for name in ("openvino", "opencv"):  # CPU only, whatever the machine
        assert backends[name]["devices"] == ["cpu"] and backends[name]["auto"] == "cpu"
        assert "CPU only" in backends[name]["gpu_reason"]
    ort = backends["onnxruntime"]
    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():  # the dev extra's CPU wheel
        assert ort["devices"] == ["cpu"] and ort["auto"] == "cpu"
        assert ort["gpu_reason"].startswith(f"onnxruntime {onnxruntime.__version__} is the CPU build")
    if NO_GPU_HERE:
        assert found["gpus"]["names"] == [] and isinstance(found["gpus"]["reason"], str) and found["gpus"]["reason"]
        assert ort["devices"] == ["cpu"] and isinstance(ort["gpu_reason"], str) and ort["gpu_reason"]
    table = posestudio("backends")
    assert table.returncode == 0 and "Traceback" not in table.stderr
    assert all(name in table.stdout for name in backends) and "no GPU: " in table.stdout


def test_backends_says_when_the_onnx_model_is_missing(tmp_path: Path) -> None:
    graph = tmp_path / "graph_opt.pb"
    graph.write_bytes(b"a graph")
    found = json.loads(posestudio("backends", "--json", "--model", graph).stdout)
    errors = {b["name"]: b["model_error"] for b in found["backends"]}
    assert errors["openvino"] is None and "make onnx" in errors["onnxruntime"] and "make onnx" in errors["torch"]


@pytest.mark.skipif(not NO_GPU_HERE, reason="this machine has an NVIDIA GPU")
@pytest.mark.parametrize(("argv", "env", "backend"), [
    (["process", "{video}", "--out", "{out}", "--device", "gpu"], {}, "openvino"),
    (["process", "{video}", "--out", "{out}", "--backend", "onnxruntime", "--device", "gpu:0"], {}, "onnxruntime"),
    (["image", "{image}", "--out", "{out}", "--backend", "onnxruntime", "--device", "gpu"], {}, "onnxruntime"),
    (["images", "{images}", "--coco-results", "{out}/r.json", "--backend", "opencv", "--device", "gpu"], {}, "opencv"),
    (["process", "{video}", "--out", "{out}", "--backend", "torch", "--device", "gpu"], {}, "torch"),
    (["worker", "--backend", "onnxruntime", "--device", "gpu"], {}, "onnxruntime"),
    (["worker"], {"INFERENCE_BACKEND": "onnxruntime", "INFERENCE_DEVICE": "gpu:1"}, "onnxruntime"),
    (["serve", "--port", "5987", "--device", "gpu"], {"INFERENCE_BACKEND": "onnxruntime"}, "onnxruntime"),
], ids=["process", "process-ort", "image", "images", "process-torch", "worker", "worker-env", "serve"])
def test_a_gpu_that_is_not_there_is_one_line_and_exit_2(argv, env, backend, tmp_path, videos_dir, shared_data) -> None:
    if backend == "torch":
        pytest.importorskip("torch", reason="torch is not installed (make test-setup installs the CPU build where "
                                            "its wheel is on disk; make setup-torch elsewhere)")
    values = {"video": videos_dir / "vtest.avi", "out": tmp_path / "out", "image": shared_data / "coco" / "images" /
              "000000000785.jpg", "images": shared_data / "coco" / "images"}
    instance = tmp_path / "instance"
    done = posestudio(*(a.format(**values) for a in argv), env={"POSESTUDIO_INSTANCE_DIR": str(instance), **env},
                      timeout=60)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"asked for, but the {backend} backend has no GPU here: " in lines[0]
    assert not (tmp_path / "out").exists() and not instance.exists()  # refused before any work


def test_a_bad_device_variable_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = posestudio("worker", env={"INFERENCE_DEVICE": "tpu", "POSESTUDIO_INSTANCE_DIR": str(tmp_path / "i")})
    assert done.returncode == 2 and done.stderr.strip() == (
        "posestudio worker: INFERENCE_DEVICE must be auto, cpu, gpu or gpu:N (N = 0, 1, ...), got 'tpu'")


@pytest.mark.model
def test_process_runs_on_onnxruntime_and_says_where(model_path: Path, videos_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "vtest"
    done = posestudio("process", videos_dir / "vtest.avi", "--out", out, "--end", "1.2",
                      "--backend", "onnxruntime", "--device", "auto", "--keypoints-only", "--quiet")
    assert done.returncode == 0, done.stderr
    expected = "cpu" if NO_GPU_HERE else "gpu:0"
    assert f"onnxruntime f32 on {expected}: " in done.stdout
    doc = json.loads((out / "keypoints.json").read_text())
    assert doc["model"]["backend"] == "onnxruntime" and doc["model"]["device"] == expected
    assert len({a["track_id"] for a in doc["annotations"] if a["track_id"] is not None}) >= 2  # people tracked


@pytest.mark.model
def test_process_runs_on_torch_on_the_cpu_with_its_device_side_steps(model_path: Path, videos_dir: Path,
                                                                     tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="torch is not installed (make test-setup installs the CPU build where its "
                                        "wheel is on disk; make setup-torch elsewhere)")
    out = tmp_path / "vtest"
    done = posestudio("process", videos_dir / "vtest.avi", "--out", out, "--end", "0.5", "--net-height", "368",
                      "--backend", "torch", "--device", "cpu", "--keypoints-only", "--quiet")
    assert done.returncode == 0, done.stderr
    assert "torch f32 on cpu: " in done.stdout
    doc = json.loads((out / "keypoints.json").read_text())
    assert doc["model"]["backend"] == "torch" and doc["model"]["device"] == "cpu"
    assert doc["model"]["input"]["height"] == 368
    assert len({a["image_id"] for a in doc["annotations"]}) >= 3  # people found on several frames

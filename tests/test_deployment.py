"""docker-compose.yml and Dockerfile.gpu: plain `docker compose up` needs no GPU, and the GPU
worker (profile gpu) gets NVIDIA devices, its image, one worker per GPU and the shared
settings. No Docker daemon here: the files are read as Compose reads them (YAML merge keys)."""
from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_plain_up_starts_web_worker_and_redis_without_a_gpu() -> None:
    services = _compose()["services"]
    default = sorted(name for name, service in services.items() if not service.get("profiles"))
    assert default == ["live", "redis", "web", "worker"]
    for name in default:
        assert "deploy" not in services[name], f"{name} must not reserve devices"


def test_the_gpu_worker_reserves_nvidia_gpus_and_shares_everything_else() -> None:
    services = _compose()["services"]
    gpu, cpu = services["worker-gpu"], services["worker"]
    assert gpu["profiles"] == ["gpu"]
    assert gpu["build"] == {"context": ".", "dockerfile": "Dockerfile.gpu"} and (ROOT / "Dockerfile.gpu").is_file()
    assert gpu["command"] == ["posestudio", "worker", "--gpus", "all"]
    (device,) = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]
    assert gpu["volumes"] == cpu["volumes"] and gpu["depends_on"] == cpu["depends_on"]
    shared = {k: v for k, v in cpu["environment"].items()
              if k not in ("WORKER_CONCURRENCY", "INFERENCE_BATCH", "INFERENCE_BACKEND", "INFERENCE_DEVICE")}
    assert shared.items() <= gpu["environment"].items()
    assert gpu["environment"]["INFERENCE_BATCH"].startswith("${GPU_INFERENCE_BATCH:-")
    assert gpu["environment"]["INFERENCE_DEVICE"] == "gpu"  # never a quiet fall-back to the CPU


def test_the_gpu_image_is_cuda_with_the_pinned_gpu_tree_and_the_onnx_model() -> None:
    text = (ROOT / "Dockerfile.gpu").read_text()
    assert text.count("\nFROM nvidia/cuda:") == 1 and "-runtime-" in text
    assert "--require-hashes -r requirements-gpu.txt" in text and (ROOT / "requirements-gpu.txt").is_file()
    assert "tools/convert_onnx.py" in text and (ROOT / "tools" / "convert_onnx.py").is_file()
    assert "--require-hashes --no-deps -r requirements-onnx.txt" in text
    assert 'CMD ["posestudio", "worker", "--gpus", "all"]' in text

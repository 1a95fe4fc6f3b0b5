"""Which device a request gets, on hand-made availabilities (a machine with two GPUs cannot be
had here; the real machine's answer is tested in tests/posestudio/test_cli_backends.py)."""
from __future__ import annotations

import pytest

from pose import BackendUnavailableError, DeviceUnavailableError
from pose.backends import AUTO, CPU, Availability, Device, resolve_device
from pose.backends.availability import check_precision_on
from pose.backends.onnxruntime import OnnxRuntimeBackend

TWO_GPUS = Availability("onnxruntime", True, devices=("gpu:0", "gpu:1", "cpu"),
                        device_names={"gpu:0": "NVIDIA H200 (TensorRT, CUDA)", "cpu": "CPU"},
                        precisions={"cpu": ("f32",), "gpu": ("f32", "fp16")})
CPU_ONLY = Availability("openvino", True, devices=("cpu",), gpu_reason="runs on the CPU only",
                        precisions={"cpu": ("f32", "bf16")})


@pytest.mark.parametrize(("available", "asked", "got"), [
    (TWO_GPUS, AUTO, Device("gpu", 0)),
    (TWO_GPUS, Device("gpu"), Device("gpu", 0)),
    (TWO_GPUS, Device("gpu", 1), Device("gpu", 1)),
    (TWO_GPUS, CPU, CPU),
    (CPU_ONLY, AUTO, CPU),
    (CPU_ONLY, CPU, CPU),
])
def test_a_request_gets_the_device_it_names_and_auto_prefers_a_gpu(available, asked, got) -> None:
    assert resolve_device(available, asked) == got
    assert str(got) in available.devices


def test_a_gpu_that_cannot_be_had_is_refused_with_the_reason() -> None:
    with pytest.raises(DeviceUnavailableError, match="device gpu asked for, but the openvino backend has no GPU "
                                                     "here: runs on the CPU only"):
        resolve_device(CPU_ONLY, Device("gpu"))
    with pytest.raises(DeviceUnavailableError, match="there is no gpu:2 here; the onnxruntime backend sees gpu:0, gpu:1"):
        resolve_device(TWO_GPUS, Device("gpu", 2))
    with pytest.raises(BackendUnavailableError, match="cannot run here: the package is not installed"):
        resolve_device(Availability("onnxruntime", False, reason="the package is not installed"), CPU)
    with pytest.raises(TypeError, match="config.parse_device"):
        resolve_device(TWO_GPUS, "gpu")  # text is the caller's to parse


def test_precisions_are_per_device_kind() -> None:
    check_precision_on(TWO_GPUS, Device("gpu", 0), "fp16")
    with pytest.raises(BackendUnavailableError, match=r"runs f32 on cpu, not fp16 \(it runs fp16 on the GPU\)"):
        check_precision_on(TWO_GPUS, CPU, "fp16")
    assert TWO_GPUS.to_dict()["auto"] == "gpu:0" and CPU_ONLY.to_dict()["auto"] == "cpu"
    assert Availability("x", False, reason="why").to_dict()["auto"] is None


def test_a_gpu_session_asks_tensorrt_then_cuda_never_the_cpu_alone() -> None:
    providers = OnnxRuntimeBackend._providers(Device("gpu", 1), "fp16", TWO_GPUS)
    assert providers == [("TensorrtExecutionProvider", {"device_id": 1, "trt_fp16_enable": True}),
                         ("CUDAExecutionProvider", {"device_id": 1, "use_tf32": 0}), "CPUExecutionProvider"]
    cuda_only = Availability("onnxruntime", True, devices=("gpu:0", "cpu"), precisions={"gpu": ("f32",)})
    assert [p[0] for p in OnnxRuntimeBackend._providers(Device("gpu", 0), "f32", cuda_only)[:-1]] == [
        "CUDAExecutionProvider"]
    assert OnnxRuntimeBackend._providers(CPU, "f32", TWO_GPUS) == ["CPUExecutionProvider"]

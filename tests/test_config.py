"""config: the resource limits come from the environment, with safe defaults and 0 = no limit."""
from __future__ import annotations

import pytest

from config import CLI_LIMITS, ResourceLimits, Settings


def test_limits_have_safe_defaults_and_the_environment_changes_them(tmp_path) -> None:
    base = {"POSESTUDIO_INSTANCE_DIR": str(tmp_path), "SECRET_KEY": "k"}
    assert Settings.from_env(base).limits == ResourceLimits()
    limits = Settings.from_env({**base, "MAX_FRAME_PIXELS": "2073600", "MAX_NETWORK_PIXELS": "0",
                                "MAX_HEATMAP_PIXELS": "1000000", "MAX_FRAMES": "900", "MAX_SCREENSHOTS": "",
                                "MAX_IN_FLIGHT_MB": "64"}).limits
    assert limits == ResourceLimits(max_frame_pixels=2_073_600, max_network_pixels=None,
                                    max_heatmap_pixels=1_000_000, max_frames=900, max_screenshots=1_000,
                                    max_in_flight_bytes=64 * 1024**2)


def test_the_cli_defaults_keep_the_memory_limits_and_drop_the_length_limits() -> None:
    assert ResourceLimits.from_env({}, defaults=CLI_LIMITS) == CLI_LIMITS
    assert (CLI_LIMITS.max_frames, CLI_LIMITS.max_screenshots) == (None, None)
    assert ResourceLimits.from_env({"MAX_FRAMES": "5"}, defaults=CLI_LIMITS).max_frames == 5


@pytest.mark.parametrize("env, message", [
    ({"MAX_FRAMES": "-1"}, "MAX_FRAMES must be 0 (no limit) or more, got -1"),
    ({"MAX_FRAME_PIXELS": "4k"}, "MAX_FRAME_PIXELS must be an integer, got '4k'"),
    ({"MAX_IN_FLIGHT_MB": "0"}, "MAX_IN_FLIGHT_MB must be at least 1, got '0'"),
])
def test_bad_limit_values_name_the_variable(env, message) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ResourceLimits.from_env(env)


def test_the_inference_batch_and_postprocess_workers_come_from_the_environment(tmp_path) -> None:
    base = {"POSESTUDIO_INSTANCE_DIR": str(tmp_path), "SECRET_KEY": "k"}
    settings = Settings.from_env(base)
    assert (settings.inference_batch, settings.postprocess_workers, settings.visible_gpus) == (1, "auto", None)
    settings = Settings.from_env({**base, "INFERENCE_BATCH": "32", "POSTPROCESS_WORKERS": "7",
                                  "CUDA_VISIBLE_DEVICES": "1"})
    assert (settings.inference_batch, settings.postprocess_workers, settings.visible_gpus) == (32, "7", "1")
    with pytest.raises(ValueError, match="INFERENCE_BATCH must be at least 1, got 0"):
        Settings.from_env({**base, "INFERENCE_BATCH": "0"})
    with pytest.raises(ValueError, match="POSTPROCESS_WORKERS must be auto or a whole number from 0 to 256, got 'many'"):
        Settings.from_env({**base, "POSTPROCESS_WORKERS": "many"})


def test_the_inference_device_comes_from_the_environment(tmp_path) -> None:
    from config import parse_device
    from pose.backends import Device

    base = {"SECRET_KEY": "x", "POSESTUDIO_INSTANCE_DIR": str(tmp_path)}
    assert Settings.from_env(base).inference_device == "auto"
    settings = Settings.from_env({**base, "INFERENCE_DEVICE": " GPU:1 ", "INFERENCE_BACKEND": "OnnxRuntime"})
    assert (settings.inference_device, settings.inference_backend) == ("gpu:1", "onnxruntime")
    assert [parse_device(t) for t in ("auto", "cpu", "gpu", "gpu:3")] == [
        Device("auto"), Device("cpu"), Device("gpu"), Device("gpu", 3)]
    for bad in ("tpu", "cpu:0", "gpu:-1", "gpu:one", ""):
        with pytest.raises(ValueError, match="must be auto, cpu, gpu or gpu:N"):
            parse_device(bad)
    with pytest.raises(ValueError, match="environment variable INFERENCE_DEVICE must be auto, cpu, gpu or gpu:N"):
        Settings.from_env({**base, "INFERENCE_DEVICE": "cuda"})


def test_live_settings_from_the_environment() -> None:
    from config import LiveSettings

    live = LiveSettings.from_env({"LIVE_URL": "http://live:6000/", "LIVE_SESSIONS": "3", "LIVE_MODELS": "openpose, x",
                                  "LIVE_MAX_FRAME_KB": "100", "LIVE_IDLE_TIMEOUT_S": "2.5", "LIVE_THREADS": "2"})
    assert (live.url, live.host_port, live.sessions, live.models) == ("http://live:6000", ("live", 6000), 3,
                                                                     ("openpose", "x"))
    assert (live.max_frame_bytes, live.idle_timeout_s, live.threads, live.enabled) == (102_400, 2.5, 2, True)
    assert LiveSettings.from_env({"LIVE_SESSIONS": "0"}).enabled is False
    assert LiveSettings.from_env({}).threads >= 1


@pytest.mark.parametrize("env, message", [
    ({"LIVE_URL": "https://x"}, "LIVE_URL must be an http:// URL"),
    ({"LIVE_SESSIONS": "-1"}, "LIVE_SESSIONS must be at least 0"),
    ({"LIVE_IDLE_TIMEOUT_S": "0"}, "LIVE_IDLE_TIMEOUT_S must be above 0"),
    ({"LIVE_IDLE_TIMEOUT_S": "soon"}, "LIVE_IDLE_TIMEOUT_S must be a number"),
    ({"LIVE_THREADS": "0"}, "LIVE_THREADS must be at least 1"),
])
def test_bad_live_values_name_the_variable(env, message) -> None:
    from config import LiveSettings

    with pytest.raises(ValueError, match=message):
        LiveSettings.from_env(env)

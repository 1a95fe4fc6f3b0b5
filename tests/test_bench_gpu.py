"""bench/gpu.py --small runs on this CPU and prints the JSON document it promises: inference
frames/s by precision, size and batch (fp16 skipped with OpenVINO's reason), end to end for one
video and for two at once with each stage's busy time, and GPU utilisation as null with the
reason (no nvidia-smi here). The numbers are not judged: speed belongs to the bench itself."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.model

STAGES = {"analyse_decode", "analyse_preprocess", "analyse_inference", "analyse_postprocess", "analyse_tracking",
          "tracks", "render_decode", "render_annotate", "render_encode"}


def test_small_run_prints_the_whole_document(model_path: Path, videos_dir: Path) -> None:
    env = {**os.environ, "PATH": "/usr/bin:/bin"}  # no nvidia-smi: utilisation must say why it is missing
    done = subprocess.run([sys.executable, "bench/gpu.py", "--small", "--video", str(videos_dir / "vtest.avi")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    doc = json.loads(done.stdout)
    assert doc["backend"] == "openvino" and doc["small"] is True and doc["host"]["gpus"] == []

    inference = doc["inference"]
    seen = {(r["precision"], r["width"], r["height"], r["batch"]) for r in inference["results"]}
    assert seen == {("f32", w, h, b) for w, h in ((96, 64), (160, 96)) for b in (1, 4)}
    assert all(r["fps"] > 0 and r["ms_per_batch"] > 0 for r in inference["results"])
    (skipped,) = inference["skipped"]
    assert skipped["precision"] == "fp16" and "openvino" in skipped["reason"] and "fp16" in skipped["reason"]

    one, many = doc["end_to_end"]["one_video"], doc["end_to_end"]["concurrent"]
    assert one["frames"] == 8 and one["fps"] > 0 and one["cpu_ms_per_frame"] > 0
    assert (one["batch_size"], one["postprocess_workers"]) == (1, 0)  # OpenVINO on a CPU: auto = 0
    assert set(one["stage_busy_ms_per_frame"]) == STAGES
    assert all(v >= 0 for v in one["stage_busy_ms_per_frame"].values())
    assert many["jobs"] == 2 and many["frames"] == 16 and many["fps"] > 0 and len(many["fps_per_job"]) == 2
    for part in (inference, one, many):
        assert part["gpu_utilisation"] is None and "nvidia-smi" in part["gpu_utilisation_reason"]

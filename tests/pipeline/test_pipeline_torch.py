"""The pipeline on the torch backend (CPU torch here): its estimator resizes frames and finds
peaks beside the network and hands the pool peaks and PAFs instead of network outputs; batches
and a pool of post-processing processes change nothing in the exports."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="torch is not installed (make test-setup installs the CPU build where its "
                                    "wheel is on disk; make setup-torch elsewhere)")

from pose.device_estimator import DevicePoseEstimator  # noqa: E402
from pipeline.execution import Execution  # noqa: E402
from pipeline.video import PipelineOptions, load_pipeline_backend, pipeline_estimator, process_video  # noqa: E402

pytestmark = pytest.mark.model

OPTIONS = PipelineOptions(backend="torch", end_s=0.8, net_height=368, keypoints_only=True)  # 8 frames


@pytest.fixture(scope="module")
def backend(model_path: Path):
    if not model_path.with_suffix(".onnx").is_file():
        pytest.skip("graph_opt.onnx not found: run `make onnx` (make test-setup does)")
    return load_pipeline_backend(OPTIONS, model_path)


def test_the_torch_backend_gets_the_device_side_estimator(backend) -> None:
    assert backend.name == "torch" and backend.parallel_requests == 2
    estimator = pipeline_estimator(OPTIONS, backend)
    assert isinstance(estimator, DevicePoseEstimator) and estimator.net_height == 368


def test_batches_and_a_pool_give_the_same_people(backend, videos_dir: Path, tmp_path: Path) -> None:
    runs = {}
    for label, execution in (("alone", Execution(batch_size=1, postprocess_workers=0)),
                             ("batch 4, pool 2", Execution(batch_size=4, postprocess_workers=2))):
        result = process_video(videos_dir / "vtest.avi", tmp_path / label, OPTIONS, backend=backend,
                               execution=execution)
        assert result.frames_processed == 8
        runs[label] = json.loads((tmp_path / label / "keypoints.json").read_text())
    alone, pooled = runs["alone"], runs["batch 4, pool 2"]
    assert alone["model"]["backend"] == "torch" and alone["model"]["input"]["height"] == 368
    assert len(alone["annotations"]) >= 8
    assert len(pooled["annotations"]) == len(alone["annotations"])
    for a, b in zip(alone["annotations"], pooled["annotations"]):
        assert a["image_id"] == b["image_id"] and a["track_id"] == b["track_id"]
        assert max(abs(x - y) for x, y in zip(a["keypoints"], b["keypoints"])) <= 0.05

"""The demo run shared by the multi-view tests: Pose2Sim's four views and their Qualisys
calibration through ``pipeline.multiview.process_views`` once per session, with the multi-view
defaults (net_height "auto": sized for triangulation, 432 to 640 on these views; keypoints only). The
2D passes over four 1080x1920 views are the slow part: about two minutes on two cores."""
from __future__ import annotations

from pathlib import Path

import pytest

@pytest.fixture(scope="session")
def demo_dir(shared_data: Path) -> Path:
    folder = shared_data / "multiview" / "pose2sim_single"
    if not folder.is_dir():
        pytest.skip(f"the multi-view demo is not at {folder}")
    return folder


@pytest.fixture(scope="session")
def demo_run(demo_dir: Path, model_path: Path, tmp_path_factory):
    from pipeline.multiview import process_views
    from pipeline.options import PipelineOptions

    out = tmp_path_factory.mktemp("multiview") / "demo"
    options = PipelineOptions(keypoints_only=True)
    videos = [demo_dir / f"cam0{i}.mp4" for i in range(1, 5)]
    progress = []
    result = process_views(demo_dir / "Calib.qca.txt", videos, out, options, model_path=model_path,
                           on_progress=progress.append)
    return result, progress

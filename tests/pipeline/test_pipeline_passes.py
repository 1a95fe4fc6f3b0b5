"""The two passes on their own: pass 1 keeps its people in a file (memory flat in video length)
and names each row's tracklet; pass 2 draws the final people, looked up by source frame."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pose import PoseEstimator
from videoio import probe
from pipeline.analyse import analyse
from pipeline.video import PipelineOptions, load_pipeline_backend
from pipeline.poselog import NO_TRACK, row_dtype

pytestmark = pytest.mark.model


def test_pass_one_keeps_people_in_a_file_with_their_tracklets(model_path: Path, videos_dir: Path, tmp_path) -> None:
    options = PipelineOptions(start_s=1.0, end_s=5.0, frame_stride=2, net_height=368)
    backend = load_pipeline_backend(options, model_path)
    estimator = PoseEstimator(backend, net_height=options.net_height, upsample=options.upsample)
    progress = []
    analysis = analyse(videos_dir / "vtest.avi", "vtest.avi", probe(videos_dir / "vtest.avi"), options, estimator,
                       tmp_path, frames_in_flight=4, check_frame_count=lambda done, expected: None,
                       on_frame=lambda done, expected: progress.append((done, expected)),
                       should_cancel=lambda: False)
    assert isinstance(analysis.rows, np.memmap)  # on disk, not in memory
    assert (tmp_path / "poses.bin").stat().st_size == len(analysis.rows) * row_dtype(18).itemsize
    assert list(analysis.frame_table["frame"]) == list(range(10, 50, 2))  # source frames, stride 2
    assert np.allclose(analysis.frame_table["time_s"], np.arange(10, 50, 2) / 10)
    assert progress[-1] == (20, 20)
    rows = analysis.rows
    assert len(rows) > 30 and set(np.unique(rows["seq"])) <= set(range(20))
    assert list(rows["seq"]) == sorted(rows["seq"])
    tracked = rows["track"][rows["track"] != NO_TRACK]
    assert analysis.confirmed and analysis.confirmed <= set(tracked.tolist())
    # A confirmed tracklet keeps its frames from before confirmation (min_hits = 3).
    first = min(analysis.confirmed)
    assert (rows["track"] == first).sum() >= 3

"""Batched inference and post-processing in a pool of processes change the speed, never the
result: the exports of a real clip are the same, byte for byte, as one frame at a time in
one thread; and a cancelled or failed run leaves no post-processing process behind."""
from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import pytest

from pose import PoseEstimator
from pipeline.execution import Execution
from pipeline.video import PipelineCancelled, PipelineOptions, load_pipeline_backend, process_video
from pipeline.postprocess_pool import PostprocessPool

pytestmark = pytest.mark.model

CLIP = "vtest.avi"  # 768x576, 10 fps, many people crossing
OPTIONS = PipelineOptions(end_s=3.2, keypoints_only=True)  # 32 frames
COMPARED = ("keypoints.csv", "tracks_mot.txt", "angles.csv", "people.json")


@pytest.fixture(scope="module")
def backend(model_path: Path):
    return load_pipeline_backend(OPTIONS, model_path)


def _exports(out: Path) -> dict[str, bytes]:
    files = {name: (out / name).read_bytes() for name in COMPARED}
    # keypoints.json says how long the run took; everything else in it must match.
    files["keypoints.json"] = re.sub(rb'"elapsed_s": [0-9.e+-]+', b'"elapsed_s": 0',
                                     (out / "keypoints.json").read_bytes())
    with zipfile.ZipFile(out / "openpose_json.zip") as archive:
        files.update({f"zip:{n}": archive.read(n) for n in archive.namelist()})
    return files


def test_batches_and_a_process_pool_give_the_same_exports(backend, videos_dir: Path, tmp_path: Path) -> None:
    runs = {}
    for label, execution in (("one at a time", Execution(batch_size=1, postprocess_workers=0)),
                             ("batches of 5", Execution(batch_size=5, postprocess_workers=0)),
                             ("batches of 4, 2 processes", Execution(batch_size=4, postprocess_workers=2))):
        result = process_video(videos_dir / CLIP, tmp_path / label, OPTIONS, backend=backend, execution=execution)
        assert result.frames_processed == 32
        assert result.timings["batch_size"] == execution.batch_size
        assert result.timings["postprocess_workers"] == execution.postprocess_workers
        runs[label] = _exports(tmp_path / label)
    baseline = runs.pop("one at a time")
    assert baseline["keypoints.csv"].count(b"\n") > 500 and baseline["tracks_mot.txt"].count(b"\n") > 30
    for label, files in runs.items():
        assert files.keys() == baseline.keys(), label
        different = [name for name in baseline if files[name] != baseline[name]]
        assert not different, f"{label}: {different} differ from one frame at a time"


def _descendants() -> set[int]:
    """Process ids below this one (children, grandchildren...), read from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [os.getpid()]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_cancelled_run_leaves_no_postprocessing_process(backend, videos_dir: Path, tmp_path: Path) -> None:
    before = _descendants()
    seen: set[int] = set()
    calls = 0

    def cancel_after_a_few_frames() -> bool:
        nonlocal calls
        calls += 1
        seen.update(_descendants() - before)
        return calls > 6

    with pytest.raises(PipelineCancelled):
        process_video(videos_dir / CLIP, tmp_path / "out", OPTIONS, backend=backend,
                      execution=Execution(batch_size=2, postprocess_workers=2), should_cancel=cancel_after_a_few_frames)
    assert not (tmp_path / "out").exists()
    # multiprocessing's fork server and resource tracker stay for the next job (one idle process
    # each per worker process); the pool's processes, the fork server's children, are gone.
    helpers = ("multiprocessing.forkserver", "multiprocessing.resource_tracker")
    workers = {pid for pid in seen if _alive(pid)
               and not any(h in Path(f"/proc/{pid}/cmdline").read_text(errors="replace") for h in helpers)}
    assert len(seen) >= 2, seen  # the pool ran
    assert not workers, f"post-processing processes left running: {workers}"


def test_a_failed_frame_stops_the_pool_and_joins_its_processes(backend, tmp_path: Path) -> None:
    estimator = PoseEstimator(backend)
    with PostprocessPool(2, upsample=estimator.upsample, params=estimator.params) as pool:
        bad = pool.submit("not a network output", None)  # type: ignore[arg-type]
        with pytest.raises(Exception):
            bad.result(timeout=60)
        pids = pool.pids()
        assert pids
    assert not any(_alive(pid) for pid in pids)


def test_bad_execution_settings_are_refused_with_the_setting_named() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        Execution.parse(batch_size="0")
    with pytest.raises(ValueError, match="batch_size"):
        Execution.parse(batch_size="eight")
    with pytest.raises(ValueError, match="postprocess_workers"):
        Execution.parse(postprocess_workers="-1")
    assert Execution.parse(batch_size="8", postprocess_workers="AUTO") == Execution(8, "auto")


def test_auto_uses_a_pool_only_beside_a_gpu(backend) -> None:
    class OnGpu:
        device = "cuda:0"

    assert Execution().workers_for(backend) == 0  # OpenVINO on the CPU: inference has the cores
    assert Execution().workers_for(OnGpu(), cores=16) == 15
    assert Execution().workers_for(OnGpu(), cores=1) == 1
    assert Execution(postprocess_workers=3).workers_for(backend) == 3


KILLED_JOB = """
import sys, time
import numpy as np
from pose.assembly import AssemblyParams
from pose.preprocess import InputGeometry
from pipeline.postprocess_pool import PostprocessPool

if __name__ == "__main__":
    pool = PostprocessPool(2, upsample=2, params=AssemblyParams())
    futures = [pool.submit(np.zeros((46, 82, 57), np.float32), InputGeometry((656, 368), 1.0, 1.0)) for _ in range(4)]
    [f.result() for f in futures]
    print(" ".join(map(str, pool.pids())), flush=True)
    time.sleep(600)
"""


def test_a_killed_job_process_takes_its_pool_with_it(tmp_path: Path) -> None:
    """As a hard time limit or the OOM killer ends a Celery pool process: SIGKILL, no clean-up."""
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "job.py"
    script.write_text(KILLED_JOB)
    root = Path(__file__).resolve().parents[2]
    job = subprocess.Popen([sys.executable, str(script)], cwd=root, stdout=subprocess.PIPE, text=True,
                           env={**os.environ, "PYTHONPATH": str(root)})
    try:
        pids = [int(p) for p in job.stdout.readline().split()]
        assert len(pids) == 2 and all(_alive(pid) for pid in pids)
    finally:
        job.send_signal(signal.SIGKILL)
        job.wait()
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in pids if _alive(pid)], "the pool outlived its job's process"

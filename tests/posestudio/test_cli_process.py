"""``posestudio process`` end to end in a real subprocess: outputs, progress bar, clean errors."""
from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from posestudio.cli import main

ROOT = Path(__file__).resolve().parents[2]


def posestudio(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "posestudio.cli", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=240)


@pytest.mark.model
def test_process_writes_outputs_and_shows_progress(model_path: Path, videos_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "vtest"
    done = posestudio("process", videos_dir / "vtest.avi", "--out", out, "--end", "1.2", "--net-size", "320x256",
                      "--max-people", "2", "--keypoint-threshold", "0.2", "--screenshot-interval", "0.5",
                      "--batch-size", "5", "--postprocess-workers", "2", "--model", model_path)
    assert done.returncode == 0, done.stderr
    assert "12/12" in done.stderr and "frame" in done.stderr  # the tqdm bar, finished
    assert f"{out}: 12 frames" in done.stdout
    doc = json.loads((out / "keypoints.json").read_text())
    assert doc["options"]["net_width"] == 320 and doc["options"]["max_people"] == 2
    per_frame: dict[int, int] = {}
    for a in doc["annotations"]:
        per_frame[a["image_id"]] = per_frame.get(a["image_id"], 0) + 1
        assert all(v == 0 or v >= 0.2 for v in a["keypoints"][2::3])
    assert per_frame and max(per_frame.values()) <= 2
    assert len(list((out / "screenshots").glob("t*.jpg"))) == 3  # 0.0, 0.5, 1.0 s


@pytest.mark.parametrize(("content", "needle"), [(b"hello, not a video\n" * 50, "bad.mp4"), (b"", "empty")])
def test_bad_input_is_one_line_error_without_traceback(tmp_path: Path, content: bytes, needle: str) -> None:
    (tmp_path / "bad.mp4").write_bytes(content)
    done = posestudio("process", tmp_path / "bad.mp4", "--out", tmp_path / "out")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("posestudio process: ") and needle in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.mp4"]  # no half-written folder


@pytest.mark.parametrize(("flags", "message"), [
    (["--net-height", "300"], "net_height must be a multiple of 8"),
    (["--net-size", "big"], "--net-size must look like 432x368"),
    (["--start", "4", "--end", "2"], "end_s (2.0) must be after start_s (4.0)"),
    (["--batch-size", "0"], "batch_size must be a whole number from 1 to 256, got 0"),
    (["--postprocess-workers", "many"], "postprocess_workers must be a whole number, got 'many'"),
    (["--quality", "best"], "quality must be one of fast, balanced, accurate, got 'best'"),
])
def test_bad_options_are_reported_before_any_work(flags: list[str], message: str, tmp_path: Path, capsys) -> None:
    assert main(["process", str(tmp_path / "missing.mp4"), "--out", str(tmp_path / "out"), *flags]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("existing", ["a file", "a folder of other things", "the video's folder"])
def test_out_that_is_not_an_earlier_result_is_refused_and_kept(existing: str, videos_dir: Path, tmp_path: Path,
                                                              capsys) -> None:
    # The output folder is replaced whole: naming an unrelated folder must not delete it.
    video = tmp_path / "clip.mp4"
    video.write_bytes((videos_dir / "mmpose_demo.mp4").read_bytes())
    out = tmp_path / "out"
    if existing == "a file":
        out.write_text("keep me")
    elif existing == "a folder of other things":
        out.mkdir()
        (out / "holiday.jpg").write_text("keep me")
    else:
        out = tmp_path
    before = sorted(p.name for p in tmp_path.rglob("*"))
    assert main(["process", str(video), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("posestudio process: --out ") and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


@pytest.mark.model
def test_an_earlier_result_or_empty_folder_is_replaced(model_path: Path, videos_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for _ in range(2):  # empty, then holding the first run's result
        assert main(["process", str(videos_dir / "vtest.avi"), "--out", str(out), "--end", "0.3",
                     "--net-height", "128", "--model", str(model_path), "--quiet"]) == 0
    assert (out / "annotated.mp4").is_file() and (out / "keypoints.json").is_file()


@pytest.mark.model
def test_results_have_the_modes_the_persons_umask_gives(model_path: Path, videos_dir: Path, tmp_path: Path) -> None:
    # The command line writes the person's own files: not private like the service's, not forced
    # open either (umask 027 here: a folder 0750, files 0640).
    out = tmp_path / "result"
    done = subprocess.run([sys.executable, "-m", "posestudio.cli", "process", str(videos_dir / "vtest.avi"),
                           "--out", str(out), "--end", "0.3", "--net-height", "128", "--model", str(model_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=240, umask=0o027)
    assert done.returncode == 0, done.stderr
    modes = {p.relative_to(tmp_path).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in [out, *out.rglob("*")]}
    assert modes["result"] == modes["result/screenshots"] == 0o750
    assert {m for name, m in modes.items() if name.endswith((".mp4", ".json", ".csv", ".zip", ".txt", ".jpg"))} == {0o640}


def _clip(path: Path, *, size=(1600, 400), frames: int = 3) -> Path:
    import av
    import numpy as np

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for _ in range(frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.zeros((size[1], size[0], 3), np.uint8))):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def test_options_over_the_memory_limits_are_one_line_before_any_work(tmp_path: Path) -> None:
    clip = _clip(tmp_path / "wide.mp4")
    done = posestudio("process", clip, "--out", tmp_path / "out", "--net-height", "2048", "--upsample", "16",
                      "--model", tmp_path / "missing.pb")  # refused before the model is loaded
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        "posestudio process: wide.mp4: net_height x net_width = 2048 x 8192 = 16,777,216 network input pixels "
        "exceeds the limit of 1,048,576 (MAX_NETWORK_PIXELS; the width follows the video's 1600x400 aspect "
        "ratio); choose a smaller net_height"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wide.mp4"]


def test_the_cli_has_no_frame_limit_by_default_and_the_environment_sets_one(tmp_path: Path, monkeypatch) -> None:
    from config import CLI_LIMITS, ResourceLimits

    assert CLI_LIMITS.max_frames is None and CLI_LIMITS.max_screenshots is None
    clip = _clip(tmp_path / "three.mp4", size=(64, 48))
    monkeypatch.setenv("MAX_FRAMES", "2")
    done = posestudio("process", clip, "--out", tmp_path / "out", "--model", tmp_path / "missing.pb")
    assert done.returncode == 1 and done.stderr.startswith(
        "posestudio process: three.mp4: 3 frames to process exceeds the limit of 2 (MAX_FRAMES)")
    assert ResourceLimits.from_env({"MAX_FRAMES": "0"}, defaults=CLI_LIMITS) == CLI_LIMITS


def test_process_with_blazepose_writes_its_33_parts(blazepose_estimator_factory, videos_dir: Path,
                                                    tmp_path: Path) -> None:
    out = tmp_path / "blaze"
    done = posestudio("process", videos_dir / "pose2sim_trial1_cam01.mp4", "--out", out, "--end", "0.2",
                      "--model", "blazepose", "--keypoints-only", "--quiet")
    assert done.returncode == 0, done.stderr
    assert f"{out}: 12 frames" in done.stdout and "1 track(s)" in done.stdout
    doc = json.loads((out / "keypoints.json").read_text())
    assert doc["options"]["model"] == "blazepose" and doc["skeleton"]["name"] == "blazepose33"
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == [
        "angles.csv", "keypoints.csv", "keypoints.json", "people.json", "reps.csv", "tracks_mot.txt"]


@pytest.mark.parametrize(("args", "message"), [
    (("--model", "blazepose", "--model-path", "graph_opt.pb"),
     "--model-path is OpenPose's graph or a Caffe model's files; the blazepose model's files are found where "
     "`posestudio models` says"),
    (("--model", "graph_opt.pb", "--model-path", "other.pb"), "give the graph with --model-path or --model, not both"),
    (("--model", "alphapose"), "alphapose"),
])
def test_contradictory_or_unknown_models_are_one_line_errors(tmp_path: Path, args, message) -> None:
    clip = tmp_path / "x.mp4"
    clip.write_bytes(b"")
    done = posestudio("process", clip, "--out", tmp_path / "out", *args)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert message in done.stderr and len(done.stderr.splitlines()) == 1

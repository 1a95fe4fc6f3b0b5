"""``posestudio models`` through the real command line: what is installed on this machine (make
setup installs the three BlazePose models), and where the others' files go."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def posestudio(*args: object, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "posestudio.cli", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def test_models_json_says_what_is_installed_here_and_where_the_rest_goes(model_path: Path, tmp_path: Path) -> None:
    pytest.importorskip("mediapipe", reason="mediapipe is not installed: run `make setup`")
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    (models_dir / "graph_opt.pb").symlink_to(model_path)
    env = {"POSESTUDIO_MODEL_PATH": str(models_dir / "graph_opt.pb"), "TORCH_HOME": str(tmp_path / "torch")}
    done = posestudio("models", "--json", env=env)
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)["models"]}
    for name in ("openpose", "blazepose-lite", "blazepose", "blazepose-heavy"):  # make setup installs these
        assert rows[name]["installed"] is True, rows[name]
        assert all(Path(f).is_file() for f in rows[name]["files"])
    for name, folder in (("openpose-caffe-coco", "openpose/pose/coco"), ("openpose-caffe-mpi", "openpose/pose/mpi"),
                         ("openpose-caffe-body25", "openpose/pose/body_25"), ("keypointrcnn", "keypointrcnn")):
        row = rows[name]
        assert row["installed"] is False and row["install"] and row["licence"]
        assert any(f.startswith(str(models_dir / folder)) for f in row["files"]), row
    assert rows["openpose-caffe-body25"]["skeleton"] == "body25" and rows["openpose-caffe-mpi"]["parts"] == 15
    text = posestudio("models", env=env)
    assert text.returncode == 0 and "blazepose-heavy" in text.stdout and "not installed" in text.stdout


def test_a_model_that_is_not_installed_is_one_clear_line(tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"\0")  # never read: the model is refused first
    done = posestudio("process", video, "--out", tmp_path / "out", "--model", "openpose-caffe-body25")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "openpose/pose/body_25" in lines[0], done.stderr


@pytest.mark.parametrize("damage, words", [
    ("not-caffe", "not a Caffe prototxt"),
    ("other-layout", "do not fit"),
    ("truncated", "truncated"),
])
def test_bad_caffe_files_are_one_line_and_nothing_is_written(videos_dir: Path, tmp_path: Path, damage: str,
                                                             words: str) -> None:
    from caffe_files import prototxt_text, write_model

    folder = tmp_path / "model"
    prototxt, caffemodel = write_model(folder, "mpi", weights_of="coco" if damage == "other-layout" else None)
    if damage == "not-caffe":
        prototxt.write_text('{"model": "not a prototxt"}\n')
    elif damage == "truncated":
        caffemodel.write_bytes(caffemodel.read_bytes()[:-50])
    assert prototxt_text("mpi")  # the undamaged text, for the reader
    out = tmp_path / "out"
    done = posestudio("process", videos_dir / "vtest.avi", "--out", out, "--model", "openpose-caffe",
                      "--model-path", folder, "--end", "0.2", "--quiet")
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 1 and len(lines) == 1 and words in lines[0], done.stderr
    assert "Traceback" not in done.stderr and not out.exists()
    assert not list(tmp_path.glob(".out.partial-*"))

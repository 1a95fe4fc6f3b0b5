"""``posestudio multiview``: bad input is one clear line, before any slow work, and leaves
nothing behind (the demo's end to end run is tests/multiview/test_multiview_demo.py)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from posestudio.cli import main
from pipeline.multiview import length_warning

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def demo(shared_data: Path) -> Path:
    folder = shared_data / "multiview" / "pose2sim_single"
    if not folder.is_dir():
        pytest.skip(f"the multi-view demo is not at {folder}")
    return folder


def _links(tmp_path: Path, demo: Path, names: list[str], sources: list[Path] | None = None) -> list[Path]:
    out = []
    for i, name in enumerate(names):
        link = tmp_path / name
        link.symlink_to(sources[i] if sources else demo / f"cam0{i % 4 + 1}.mp4")
        out.append(link)
    return out


def _refused(tmp_path: Path, args: list[str], capsys, needle: str) -> None:
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["multiview", *args, "--out", str(tmp_path / "out"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("posestudio multiview: ") and needle in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing half-written


def test_nine_videos_are_refused(tmp_path, demo, capsys) -> None:
    videos = _links(tmp_path, demo, [f"cam{i}.mp4" for i in range(1, 10)])
    _refused(tmp_path, [str(demo / "Calib.qca.txt"), *map(str, videos)], capsys, "9 video(s): give 2 to 8")


def test_a_camera_missing_from_the_calibration_is_named(tmp_path, demo, capsys) -> None:
    videos = _links(tmp_path, demo, ["cam01.mp4", "cam02.mp4", "cam05.mp4"])
    _refused(tmp_path, [str(demo / "Calib.qca.txt"), *map(str, videos)], capsys,
             "no camera in the calibration for cam05.mp4")


def test_an_unreadable_video_is_named(tmp_path, demo, capsys) -> None:
    videos = _links(tmp_path, demo, ["cam01.mp4", "cam03.mp4"])
    bad = tmp_path / "cam02.mp4"
    bad.write_bytes(b"not a video\n" * 100)
    _refused(tmp_path, [str(demo / "Calib.qca.txt"), str(videos[0]), str(bad), str(videos[1])], capsys, "cam02.mp4")


def test_videos_of_different_frame_rates_are_refused(tmp_path, demo, shared_data, capsys) -> None:
    videos = _links(tmp_path, demo, ["cam01.mp4", "cam02.mp4"],
                    [demo / "cam01.mp4", shared_data / "videos" / "sports2d_demo.mp4"])
    _refused(tmp_path, [str(demo / "Calib.qca.txt"), *map(str, videos)], capsys,
             "different frame rates (cam01.mp4 60 fps, cam02.mp4 30 fps)")


def test_a_calibration_in_an_unknown_format_is_refused(tmp_path, demo, capsys) -> None:
    videos = _links(tmp_path, demo, ["cam01.mp4", "cam02.mp4"])
    calib = tmp_path / "calib.json"
    calib.write_text('{"cameras": []}')
    _refused(tmp_path, [str(calib), *map(str, videos)], capsys, "calib.json: not a calibration this reads")


def test_offsets_that_do_not_fit_are_refused(tmp_path, demo, capsys) -> None:
    videos = _links(tmp_path, demo, ["cam01.mp4", "cam02.mp4"])
    _refused(tmp_path, [str(demo / "Calib.qca.txt"), *map(str, videos), "--offsets", "0,3,4"], capsys,
             "3 offsets for 2 videos")
    _refused(tmp_path, [str(demo / "Calib.qca.txt"), *map(str, videos), "--offsets", "0,a"], capsys,
             "--offsets must be whole numbers")


@pytest.mark.parametrize("flags", [["--start", "0.5"], ["--stride", "2"]])
def test_start_and_stride_are_refused(tmp_path, demo, capsys, flags) -> None:
    videos = _links(tmp_path, demo, ["cam01.mp4", "cam02.mp4"])
    _refused(tmp_path, [str(demo / "Calib.qca.txt"), *map(str, videos), *flags], capsys,
             "start and stride are not for several views")


def test_videos_of_different_lengths_are_accepted_with_a_warning() -> None:
    assert length_warning(["cam01.mp4", "cam02.mp4"], [100, 100]) is None
    text = length_warning(["cam01.mp4", "cam02.mp4"], [100, 88])
    assert "cam01.mp4 100 frames, cam02.mp4 88 frames" in text


def test_the_command_is_listed() -> None:
    done = subprocess.run([sys.executable, "-m", "posestudio.cli", "multiview", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "CALIB" in done.stdout and "--offsets" in done.stdout


@pytest.mark.model
def test_a_short_run_writes_the_3d_outputs_and_says_what_it_found(tmp_path, demo, model_path) -> None:
    # 0.4 s of each view at a small network: the command end to end, not the quality (that is
    # tests/multiview/test_multiview_demo.py)
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "posestudio.cli", "multiview", str(demo / "Calib.qca.txt"),
                           *[str(demo / f"cam0{i}.mp4") for i in range(1, 5)], "--out", str(out), "--end", "0.4",
                           "--net-height", "256", "--offsets", "0,0,0,0", "--model", str(model_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert f"{out}: 1 person(s) in 3D over 24 frames" in done.stdout
    assert "offsets (frames) cam01 +0, cam02 +0, cam03 +0, cam04 +0" in done.stdout
    assert "Traceback" not in done.stderr and "codec's padding" in done.stderr
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"keypoints_3d.csv", "angles_3d.csv", "multiview.json", "calibration.toml", "people/person_1.trc",
            "people/person_1_angles_3d.mot", "views/cam01/keypoints.csv", "views/cam04/keypoints.json"} <= names
    assert not any(p.name.startswith(".out.partial") for p in tmp_path.iterdir())

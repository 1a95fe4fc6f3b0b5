"""tools/install_blazepose_models.py: the npm tarball's lite and heavy models are installed only
when each file's size and sha256 match; anything else is one line and installs nothing.
The real files come from where `make setup` installed them (mediapipe's model folder)."""
from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "install_blazepose_models.py"


def _tarball(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def _install(tarball: Path, dest: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), "--tarball", str(tarball), "--dest", str(dest)],
                          capture_output=True, text=True, timeout=60)


def test_only_files_with_the_right_sha256_are_installed(tmp_path: Path) -> None:
    from pipeline.model_files import mediapipe_model_dir

    installed = mediapipe_model_dir()
    if installed is None or not (installed / "pose_landmark_heavy.tflite").is_file():
        pytest.skip("the BlazePose models are not installed here: run `make setup`")
    real = {name: (installed / name).read_bytes() for name in ("pose_landmark_lite.tflite",
                                                                "pose_landmark_heavy.tflite")}
    good = _tarball(tmp_path / "good.tgz", real)
    done = _install(good, tmp_path / "dest")
    assert done.returncode == 0, done.stderr
    assert {p.name for p in (tmp_path / "dest").iterdir()} == set(real)
    assert all((tmp_path / "dest" / n).read_bytes() == data for n, data in real.items())
    # One byte changed in the heavy model: refused, naming it, and nothing is installed.
    heavy = bytearray(real["pose_landmark_heavy.tflite"])
    heavy[1000] ^= 0xFF
    bad = dict(real, **{"pose_landmark_heavy.tflite": bytes(heavy)})
    done = _install(_tarball(tmp_path / "bad.tgz", bad), tmp_path / "dest2")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1 and "pose_landmark_heavy.tflite" in lines[0]
    assert "sha256" in lines[0] and not (tmp_path / "dest2").exists()
    # A tarball without the model (another package): refused the same way.
    done = _install(_tarball(tmp_path / "other.tgz", {"README.md": b"hello"}), tmp_path / "dest3")
    assert done.returncode == 1 and "has no package/pose_landmark_lite.tflite" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "dest3").exists()

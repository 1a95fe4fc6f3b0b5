"""``posestudio process --keypoints-only``: the data exports and nothing else, in a real subprocess."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.exports import EXPORT_FILE_NAMES

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.model
def test_keypoints_only_writes_the_exports_and_no_video_or_screenshots(model_path: Path, videos_dir: Path,
                                                                       tmp_path: Path) -> None:
    out = tmp_path / "data"
    done = subprocess.run([sys.executable, "-m", "posestudio.cli", "process", str(videos_dir / "vtest.avi"),
                           "--out", str(out), "--end", "0.6", "--net-height", "256", "--keypoints-only",
                           "--screenshot-interval", "0.1", "--model", str(model_path), "--quiet"],
                          cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert f"{out}: 6 frames" in done.stdout and "0 screenshot(s)" in done.stdout
    # The data: keypoints, tracks, and each person's angles (no picture of anyone).
    assert sorted(p.name for p in out.iterdir()) == sorted([*EXPORT_FILE_NAMES, "angles.csv", "people.json", "reps.csv",
                                                            "people"])
    assert not [p for p in (out / "people").iterdir() if p.suffix in (".jpg", ".png", ".mp4")]
    doc = json.loads((out / "keypoints.json").read_text())
    assert doc["options"]["keypoints_only"] is True and doc["annotations"]

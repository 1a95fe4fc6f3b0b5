"""How many IDs each video gets: the single-pass pipeline of before against today's.

    .venv/bin/python bench/ids.py [VIDEO ...]

For each video (default: every video in ../shared/data/videos), runs the single-pass pipeline
(bench/pipeline.py's SINGLE_PASS_COMMIT, checked out by git into a temporary folder) and today's
two-pass pipeline at default settings, and prints the distinct track IDs of each in
``tracks_mot.txt``, beside the frames processed. The number of people actually in the video is
for a person to count (the README of ../shared/data says what each shows).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pipeline import VIDEOS, single_pass_checkout  # noqa: E402


def tracks(tree: Path, video: Path, out: Path) -> tuple[int, int]:
    """(distinct IDs, frames) of ``posestudio process`` run from ``tree`` on ``video``."""
    subprocess.run([sys.executable, "-m", "posestudio.cli", "process", str(video), "--out", str(out),
                    "--screenshot-interval", "0", "--quiet"], cwd=tree, check=True, capture_output=True)
    with (out / "tracks_mot.txt").open() as rows:
        ids = {row.split(",")[1] for row in rows if row.strip()}
    frames = json.loads((out / "keypoints.json").read_text())["summary"]["frames_processed"]
    return len(ids), frames


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="*", type=Path)
    args = parser.parse_args()
    videos = args.videos or sorted(p for p in VIDEOS.iterdir() if p.suffix in (".avi", ".mp4"))
    print(f"{'video':42s}{'frames':>8s}{'IDs before':>12s}{'IDs now':>9s}")
    with tempfile.TemporaryDirectory() as tmp:
        old_tree = single_pass_checkout(Path(tmp) / "single-pass")
        for video in videos:
            before, frames = tracks(old_tree, video.resolve(), Path(tmp) / f"{video.stem}-before")
            now, _ = tracks(ROOT, video.resolve(), Path(tmp) / f"{video.stem}-now")
            print(f"{video.name:42s}{frames:>8d}{before:>12d}{now:>9d}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

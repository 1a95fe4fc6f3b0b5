"""Tracking quality of the whole pipeline on an annotated video, from its ``tracks_mot.txt``.

    .venv/bin/python bench/pipeline_mot_eval.py VIDEO GT.txt [--reference HYP.txt ...] [--end S]
    .venv/bin/python bench/pipeline_mot_eval.py VIDEO GT.txt --end S --ablation

``--ablation`` runs the pipeline once per row instead: the single-pass pipeline of before the
two-pass one (its own tree, checked out by git, as ``bench/pipeline.py`` does), then the
two-pass pipeline at network height 368 with online tracking only, + stitching, + gap filling,
+ smoothing, then the defaults (+ the "auto" network size, ``pipeline.autosize``), and prints
MOTA, IDF1, ID switches and the distinct IDs of each.

Runs ``pipeline.video.process_video`` at default settings (or the SORT options given) on
VIDEO, then scores the pipeline's ``tracks_mot.txt`` (whole-person boxes, MOTChallenge format,
frames from 1) against GT.txt (MOTChallenge ground truth, rows with flag 1, IoU >= 0.5) with
py-motmetrics, beside any other results files given with ``--reference`` (for example the
reference pipeline's: tf-pose-estimation's parser + SORT on the same frames). An image-sequence
benchmark (MOT's ``img1/``) becomes a VIDEO with
``ffmpeg -framerate FPS -i img1/%06d.jpg -c:v libx264 -crf 10 seq.mp4``.

No annotated pose-tracking video ships in ../shared/data, so this is for held-out sequences.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mot_eval import score  # noqa: E402  (also patches NumPy for motmetrics)

import config  # noqa: E402
from pipeline.video import PipelineOptions, process_video  # noqa: E402


def first_frames(path: Path, last_frame: int, copy: Path) -> Path:
    """Write to ``copy`` the rows of MOTChallenge file ``path`` for frames 1..``last_frame``."""
    with path.open() as rows, copy.open("w") as kept:
        kept.writelines(row for row in rows if row.strip() and float(row.split(",")[0]) <= last_frame)
    return copy


ABLATION = (
    ("online only (1 s buffer, low-score round)", dict(net_height=368, stitch=False, fill_gaps_s=0.0, smoothing="off")),
    ("+ stitching", dict(net_height=368, stitch=True, fill_gaps_s=0.0, smoothing="off")),
    ("+ gaps filled (0.5 s)", dict(net_height=368, stitch=True, fill_gaps_s=0.5, smoothing="off")),
    ("+ smoothing light", dict(net_height=368)),
    ("+ auto network size (defaults)", dict(net_height="auto")),
)


def distinct_ids(path: Path) -> int:
    with path.open() as rows:
        return len({row.split(",")[1] for row in rows if row.strip()})


def single_pass_tracks(video: Path, end: float | None, tmp: Path) -> Path:
    """tracks_mot.txt of the single-pass pipeline (bench/pipeline.py's SINGLE_PASS_COMMIT)."""
    import subprocess

    from pipeline import single_pass_checkout

    tree = single_pass_checkout(tmp / "single-pass")
    out = tmp / "single-pass-out"
    command = [sys.executable, "-m", "posestudio.cli", "process", str(video.resolve()), "--out", str(out),
               "--screenshot-interval", "0", "--quiet"] + ([] if end is None else ["--end", str(end)])
    subprocess.run(command, cwd=tree, check=True)
    return out / "tracks_mot.txt"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", type=Path)
    parser.add_argument("gt", type=Path)
    parser.add_argument("--reference", type=Path, action="append", default=[],
                        help="another MOTChallenge results file to score beside ours (repeatable)")
    parser.add_argument("--end", type=float, default=None, help="process and score only the first S seconds")
    parser.add_argument("--max-age", type=int, default=PipelineOptions.max_age)
    parser.add_argument("--min-hits", type=int, default=PipelineOptions.min_hits)
    parser.add_argument("--iou-threshold", type=float, default=PipelineOptions.iou_threshold)
    parser.add_argument("--ablation", action="store_true", help="the single-pass pipeline, then each step added")
    parser.add_argument("--net-height", default=PipelineOptions.net_height,
                        help="network input height, or auto (default %(default)s; larger finds smaller people); "
                        "the --ablation rows set their own")
    args = parser.parse_args()
    base = dict(end_s=args.end, screenshot_interval_s=0.0, max_age=args.max_age, min_hits=args.min_hits,
                iou_threshold=args.iou_threshold, net_height=args.net_height)
    base["net_height"] = PipelineOptions.from_mapping({"net_height": args.net_height}).net_height
    runs = ABLATION if args.ablation else (("pipeline (tracks_mot.txt)", {}),)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tracks = []
        if args.ablation:
            tracks.append(("single-pass pipeline (before)", single_pass_tracks(args.video, args.end, Path(tmp))))
        for i, (name, changes) in enumerate(runs):
            out = Path(tmp) / f"out{i}"
            started = time.perf_counter()
            result = process_video(args.video, out, PipelineOptions(**{**base, **changes}),
                                   model_path=config.DEFAULT_MODEL_PATH)
            tracks.append((name, out / "tracks_mot.txt"))
            size = result.network_input
            print(f"{name}: {result.frames_processed} frames in {time.perf_counter() - started:.1f} s "
                  f"(network input {size['width']}x{size['height']})", flush=True)
        gt, references = args.gt, args.reference
        if args.end is not None:  # score only the frames processed, or the rest count as misses
            last = result.frames_processed
            gt = first_frames(gt, last, Path(tmp) / "gt.txt")
            references = [first_frames(path, last, Path(tmp) / f"reference{i}.txt")
                          for i, path in enumerate(references)]
        rows = [(name, score(gt, path), distinct_ids(path)) for name, path in tracks]
        rows += [(str(path), score(gt, cut), distinct_ids(cut)) for path, cut in zip(args.reference, references)]
    print(f"{'results':<44}{'MOTA':>8}{'IDF1':>8}{'IDsw':>7}{'IDs':>6}{'frames':>8}")
    for name, metrics, ids in rows:
        print(f"{name[-44:]:<44}{100 * metrics['mota']:>8.1f}{100 * metrics['idf1']:>8.1f}"
              f"{metrics['num_switches']:>7.0f}{ids:>6d}{metrics['num_frames']:>8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

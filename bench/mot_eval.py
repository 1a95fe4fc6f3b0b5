"""Score our SORT against the SORT reference's outputs on MOT15 sequences with py-motmetrics.

    .venv/bin/python bench/mot_eval.py [--max-age 1 --min-hits 3 --iou-threshold 0.3]

Runs :func:`tracking.track_detections` on ``../shared/data/mot/MOT15/train/<seq>/det/det.txt``
(all detections, as the reference's script feeds them), scores it and the reference results in
``reference_results/sort_abewley_default/`` against ``gt/gt.txt`` (rows with flag 1, IoU
distance, match when IoU >= 0.5) and prints MOTA / IDF1 / ID switches side by side. Exits 1
when our MOTA is below the reference's on any sequence.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

np.asfarray = lambda a, dtype=float: np.asarray(a, dtype=dtype)  # motmetrics 1.4 under NumPy 2
import motmetrics as mm  # noqa: E402

from tracking import read_mot, track_detections, write_mot  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MOT_DIR = ROOT.parent / "shared" / "data" / "mot"
SEQUENCES = ("TUD-Campus", "TUD-Stadtmitte", "KITTI-17")
METRICS = ("mota", "idf1", "num_switches", "num_frames")


def score(gt_path: Path, hyp_path: Path) -> dict[str, float]:
    """MOTA, IDF1, ID switches of a results file against a ground-truth file (flag-1 rows)."""
    gt = mm.io.loadtxt(str(gt_path), fmt="mot15-2D", min_confidence=1)
    hyp = mm.io.loadtxt(str(hyp_path), fmt="mot15-2D")
    acc = mm.utils.compare_to_groundtruth(gt, hyp, "iou", distth=0.5)
    summary = mm.metrics.create().compute(acc, metrics=list(METRICS), name="x")
    return {name: float(summary[name].iloc[0]) for name in METRICS}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-age", type=int, default=1)
    parser.add_argument("--min-hits", type=int, default=3)
    parser.add_argument("--iou-threshold", type=float, default=0.3)
    args = parser.parse_args()
    if not MOT_DIR.is_dir():
        print(f"mot_eval: data not found at {MOT_DIR}", file=sys.stderr)
        return 2
    print(f"SORT max_age={args.max_age} min_hits={args.min_hits} iou_threshold={args.iou_threshold}")
    print(f"{'sequence':<16}{'MOTA ours':>10}{'ref':>7}{'IDF1 ours':>11}{'ref':>7}"
          f"{'IDsw ours':>11}{'ref':>5}{'frames':>8}{'track fps':>11}")
    worse = []
    with tempfile.TemporaryDirectory() as tmp:
        for seq in SEQUENCES:
            seq_dir = MOT_DIR / "MOT15" / "train" / seq
            rows = read_mot(seq_dir / "det" / "det.txt")
            start = time.perf_counter()
            records = track_detections(rows, max_age=args.max_age, min_hits=args.min_hits,
                                       iou_threshold=args.iou_threshold)
            elapsed = time.perf_counter() - start
            hyp_path = Path(tmp) / f"{seq}.txt"
            write_mot(hyp_path, records)
            ours = score(seq_dir / "gt" / "gt.txt", hyp_path)
            ref = score(seq_dir / "gt" / "gt.txt", MOT_DIR / "reference_results" / "sort_abewley_default" / f"{seq}.txt")
            print(f"{seq:<16}{100 * ours['mota']:>10.1f}{100 * ref['mota']:>7.1f}{100 * ours['idf1']:>11.1f}"
                  f"{100 * ref['idf1']:>7.1f}{ours['num_switches']:>11.0f}{ref['num_switches']:>5.0f}"
                  f"{ours['num_frames']:>8.0f}{ours['num_frames'] / elapsed:>11.0f}")
            if ours["mota"] < ref["mota"]:
                worse.append(seq)
    print("MOTA >= reference on every sequence" if not worse else f"MOTA below reference on: {', '.join(worse)}")
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())

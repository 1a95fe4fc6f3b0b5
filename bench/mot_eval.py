"""Score our SORT against the SORT reference's outputs on MOT15 sequences with py-motmetrics.

    .venv/bin/python bench/mot_eval.py [--max-age 3 --min-hits 3 --iou-threshold 0.3]
        [--low-score-round --low-score-threshold 0.6] [--oru] [--ocr]
        [--buffer --lost-track-buffer-s 1.0] [--ablation]

Runs :func:`tracking.track_detections` on ``../shared/data/mot/MOT15/train/<seq>/det/det.txt``
(all detections, as the reference's script feeds them), scores it and the reference results in
``reference_results/sort_abewley_default/`` against ``gt/gt.txt`` (rows with flag 1, IoU
distance, match when IoU >= 0.5) and prints MOTA / IDF1 / ID switches side by side. The defaults
are the pipeline's settings (``pipeline.options.PipelineOptions``: max_age 3, min_hits 3, IoU 0.3).
The flags switch on the tracker's additions (``tracking.Sort``); ``--ablation`` also prints one
row per addition alone, and all of them together, with the values given (or the defaults shown
in ``--help``). Keypoint and appearance costs need skeletons and pixels, which MOT15's box
detections do not have; ``bench/track_replay.py`` measures them.
Exits 1 when the tracker as configured falls below the reference's MOTA or IDF1 on any sequence.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

np.asfarray = lambda a, dtype=float: np.asarray(a, dtype=dtype)  # motmetrics 1.4 under NumPy 2
import motmetrics as mm  # noqa: E402

from tracking import read_mot, track_detections, write_mot  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MOT_DIR = ROOT.parent / "shared" / "data" / "mot"
SEQUENCES = ("TUD-Campus", "TUD-Stadtmitte", "KITTI-17")
#: Frame rates from the MOT15 benchmark's seqinfo (the shipped seqinfo.ini files omit them).
SEQUENCE_FPS = {"TUD-Campus": 25.0, "TUD-Stadtmitte": 25.0, "KITTI-17": 10.0}
METRICS = ("mota", "idf1", "num_switches", "num_frames")


def score(gt_path: Path, hyp_path: Path) -> dict[str, float]:
    """MOTA, IDF1, ID switches of a results file against a ground-truth file (flag-1 rows)."""
    gt = mm.io.loadtxt(str(gt_path), fmt="mot15-2D", min_confidence=1)
    hyp = mm.io.loadtxt(str(hyp_path), fmt="mot15-2D")
    acc = mm.utils.compare_to_groundtruth(gt, hyp, "iou", distth=0.5)
    summary = mm.metrics.create().compute(acc, metrics=list(METRICS), name="x")
    return {name: float(summary[name].iloc[0]) for name in METRICS}


def run_sequence(seq: str, options: dict[str, Any], tmp: Path) -> tuple[dict[str, float], float]:
    """Track one sequence with ``options`` (Sort keywords); return its scores and tracker fps."""
    seq_dir = MOT_DIR / "MOT15" / "train" / seq
    rows = read_mot(seq_dir / "det" / "det.txt")
    options = dict(options)
    if options.get("lost_track_buffer_s") is not None:
        options["fps"] = SEQUENCE_FPS[seq]
    start = time.perf_counter()
    records = track_detections(rows, **options)
    elapsed = time.perf_counter() - start
    hyp_path = tmp / f"{seq}.txt"
    write_mot(hyp_path, records)
    scores = score(seq_dir / "gt" / "gt.txt", hyp_path)
    return scores, scores["num_frames"] / elapsed


def variants(args: argparse.Namespace) -> list[tuple[str, dict[str, Any]]]:
    """The configured tracker first; with ``--ablation`` the base, each addition alone, all."""
    base = {"max_age": args.max_age, "min_hits": args.min_hits, "iou_threshold": args.iou_threshold}
    additions = {
        f"+ low-score round ({args.low_score_threshold:g})": {"low_score_threshold": args.low_score_threshold},
        "+ ORU": {"observation_reupdate": True},
        "+ OCR": {"observation_recovery": True},
        f"+ buffer {args.lost_track_buffer_s:g} s": {"lost_track_buffer_s": args.lost_track_buffer_s},
    }
    chosen = {"low_score_threshold": args.low_score_threshold if args.low_score_round else None,
              "observation_reupdate": args.oru, "observation_recovery": args.ocr,
              "lost_track_buffer_s": args.lost_track_buffer_s if args.buffer else None}
    configured = dict(base, **{k: v for k, v in chosen.items() if v})
    rows = [("configured", configured)]
    if args.ablation:
        rows.append(("SORT (base)", base))
        rows += [(name, dict(base, **extra)) for name, extra in additions.items()]
        everything = dict(base)
        for extra in additions.values():
            everything.update(extra)
        rows.append(("all additions", everything))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-age", type=int, default=3)
    parser.add_argument("--min-hits", type=int, default=3)
    parser.add_argument("--iou-threshold", type=float, default=0.3)
    parser.add_argument("--low-score-threshold", type=float, default=0.6,
                        help="score below which detections wait for the second round (default 0.6, ByteTrack's)")
    parser.add_argument("--low-score-round", action="store_true", help="switch on the low-score round")
    parser.add_argument("--oru", action="store_true", help="OC-SORT observation-centric re-update")
    parser.add_argument("--ocr", action="store_true", help="OC-SORT observation-centric recovery")
    parser.add_argument("--lost-track-buffer-s", type=float, default=1.0,
                        help="lost-track buffer in seconds (default 1.0)")
    parser.add_argument("--buffer", action="store_true", help="use --lost-track-buffer-s instead of --max-age")
    parser.add_argument("--ablation", action="store_true", help="also score each addition alone and all together")
    args = parser.parse_args()
    if not MOT_DIR.is_dir():
        print(f"mot_eval: data not found at {MOT_DIR}", file=sys.stderr)
        return 2
    rows = variants(args)
    print("configured: " + ", ".join(f"{k}={v}" for k, v in rows[0][1].items()))
    print(f"{'variant':<26}{'sequence':<16}{'MOTA':>7}{'ref':>7}{'IDF1':>7}{'ref':>7}"
          f"{'IDsw':>6}{'ref':>5}{'frames':>8}{'track fps':>11}")
    worse = []
    with tempfile.TemporaryDirectory() as tmp:
        reference = {seq: score(MOT_DIR / "MOT15" / "train" / seq / "gt" / "gt.txt",
                                MOT_DIR / "reference_results" / "sort_abewley_default" / f"{seq}.txt")
                     for seq in SEQUENCES}
        for name, options in rows:
            for seq in SEQUENCES:
                ours, fps = run_sequence(seq, options, Path(tmp))
                ref = reference[seq]
                print(f"{name:<26}{seq:<16}{100 * ours['mota']:>7.1f}{100 * ref['mota']:>7.1f}"
                      f"{100 * ours['idf1']:>7.1f}{100 * ref['idf1']:>7.1f}{ours['num_switches']:>6.0f}"
                      f"{ref['num_switches']:>5.0f}{ours['num_frames']:>8.0f}{fps:>11.0f}")
                if name == "configured" and (ours["mota"] < ref["mota"] or ours["idf1"] < ref["idf1"]):
                    worse.append(seq)
    print("configured: MOTA and IDF1 >= reference on every sequence" if not worse
          else f"configured: MOTA or IDF1 below reference on: {', '.join(worse)}")
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())

"""``posestudio track-mot``: run SORT on MOTChallenge detections and write MOTChallenge results."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tracking import MotFormatError, read_mot, track_detections, write_mot


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "track-mot",
        help="track MOTChallenge detections with SORT",
        description="Read detections (frame,id,x,y,w,h,conf,... one per line, frames from 1), "
        "track them with SORT and write results as frame,id,x,y,w,h,score,-1,-1,-1. "
        "Track IDs start at 1 and have no gaps.",
    )
    parser.add_argument("detections", type=Path, metavar="DET.txt", help="MOTChallenge detections file")
    parser.add_argument("--out", type=Path, required=True, metavar="HYP.txt", help="results file to write")
    parser.add_argument("--max-age", type=int, default=1,
                        help="frames a track survives without a detection (default: %(default)s)")
    parser.add_argument("--min-hits", type=int, default=3,
                        help="consecutive matches before a track is reported (default: %(default)s)")
    parser.add_argument("--iou-threshold", type=float, default=0.3,
                        help="least IoU to match a detection to a track (default: %(default)s)")
    parser.add_argument("--min-score", type=float, default=None,
                        help="ignore detections whose conf is below this (default: use all)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        rows = read_mot(args.detections)
        records = track_detections(rows, max_age=args.max_age, min_hits=args.min_hits,
                                   iou_threshold=args.iou_threshold, min_score=args.min_score)
        count = write_mot(args.out, records)
    except (MotFormatError, ValueError) as exc:
        print(f"posestudio track-mot: {exc}", file=sys.stderr)
        return 1
    frames = int(rows[:, 0].max(initial=0))
    tracks = len({r.track_id for r in records})
    print(f"{args.out}: {count} rows, {tracks} tracks over {frames} frames")
    return 0

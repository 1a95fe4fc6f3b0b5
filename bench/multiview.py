"""Multi-view speed and quality: the fusion's time beside the four 2D passes' time, in one run.

    .venv/bin/python bench/multiview.py [--net-height 368] [--upsample 2] [--out DIR]
                                        [--calibration CALIB VIDEO ...]

Runs ``pipeline.multiview.process_views`` on Pose2Sim's demo (``../shared/data/multiview/
pose2sim_single``: four 1080x1920 views at 60 fps and their Qualisys calibration) or on the
calibration and videos given, then prints, from that one run: each view's 2D pass (wall
seconds), the fusion's (offsets, association, triangulation, tracking, exports), the estimated
offsets, and per person the frames seen in 3D, the median reprojection error and the
coefficient of variation of the limbs' lengths (thigh, shank, upper arm, forearm).
"""
from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEMO = ROOT.parent / "shared" / "data" / "multiview" / "pose2sim_single"
LIMBS = {"thigh": ("hip", "knee"), "shank": ("knee", "ankle"), "upper_arm": ("shoulder", "elbow"),
         "forearm": ("elbow", "wrist")}


def limb_stats(csv_path: Path, person: int) -> dict[str, tuple[float, float, int]]:
    points: dict[str, dict[int, np.ndarray]] = {}
    with open(csv_path, newline="") as handle:
        for r in csv.DictReader(handle):
            if int(r["person"]) == person:
                points.setdefault(r["joint"], {})[int(r["frame"])] = np.array(
                    [float(r["x_m"]), float(r["y_m"]), float(r["z_m"])])
    out = {}
    for side in ("right", "left"):
        for limb, (a, b) in LIMBS.items():
            pa, pb = points.get(f"{side}_{a}", {}), points.get(f"{side}_{b}", {})
            lengths = np.array([np.linalg.norm(pa[f] - pb[f]) for f in sorted(set(pa) & set(pb))])
            if len(lengths):
                out[f"{side}_{limb}"] = (float(lengths.mean()), float(lengths.std() / lengths.mean()), len(lengths))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net-height", default="368")
    parser.add_argument("--upsample", default="2")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--calibration", type=Path, nargs="+", metavar="CALIB VIDEO",
                        help="a calibration then its videos (default: the demo)")
    args = parser.parse_args()
    from pipeline.multiview import process_views
    from pipeline.options import PipelineOptions

    if args.calibration:
        calib, videos = args.calibration[0], args.calibration[1:]
    else:
        calib, videos = DEMO / "Calib.qca.txt", [DEMO / f"cam0{i}.mp4" for i in range(1, 5)]
    options = PipelineOptions.from_mapping({"keypoints_only": True, "net_height": args.net_height,
                                            "upsample": args.upsample})
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "multiview"
        result = process_views(calib, videos, out, options)
        t = result.timings
        print(f"2D passes: {t['views_s']:.1f} s wall for {len(videos)} views "
              f"({', '.join(f'{s:.1f}' for s in t['views_2d_s'])} s each, net height {args.net_height}, "
              f"upsample {args.upsample})")
        print(f"fusion:    {t['fusion_s']:.2f} s ({100 * t['fusion_s'] / t['views_s']:.1f}% of the 2D passes)")
        for camera in result.summary["cameras"]:
            o, e = camera["offset"], camera["reprojection_px"]
            print(f"  {camera['name']}: offset {o['offset_frames']:+d} frames (confidence {o['confidence']}, "
                  f"epipolar {o['epipolar_px']} px); reprojection median {e['median']} px, p90 {e['p90']} px")
        frames = result.summary["frames"]
        for person in result.summary["people"]:
            print(f"person {person['person']}: in 3D in {person['frames_seen']}/{frames} frames, "
                  f"median reprojection {person['reprojection_px_median']} px, "
                  f"{person['cameras_per_point_mean']:g} cameras per point (mean)")
            for name, (mean, cv, n) in limb_stats(out / "keypoints_3d.csv", person["person"]).items():
                print(f"    {name:16s} {mean:.3f} m  CV {100 * cv:5.1f}%  ({n} frames)")
        for warning in result.warnings:
            print(f"warning: {warning}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Multi-view speed and quality: the fusion's time beside the four 2D passes' time, in one run.

    .venv/bin/python bench/multiview.py [--net-height auto|368] [--upsample 2] [--against 368]
                                        [--out DIR] [--calibration CALIB VIDEO ...]

Runs ``pipeline.multiview.process_views`` on Pose2Sim's demo (``../shared/data/multiview/
pose2sim_single``: four 1080x1920 views at 60 fps and their Qualisys calibration) or on the
calibration and videos given, at ``--net-height`` ("auto", the default, is the multi-view one:
sized for triangulation, ``pose.input_size.PRECISION``), then prints, from that one run: each
view's network input and 2D pass (wall seconds), the fusion's (offsets, association,
triangulation, tracking, exports), the estimated offsets, and per person the frames seen in 3D,
the median reprojection error and the coefficient of variation of the limbs' lengths (thigh,
shank, upper arm, forearm). ``--against H`` runs the same again at network height H and prints
the 2D passes' time ratio of the two, both measured in this one process.
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


def run(calib: Path, videos: list[Path], net_height: str, upsample: str, out: Path) -> dict:
    """One multi-view run, its numbers printed; its timings returned."""
    from pipeline.multiview import process_views
    from pipeline.options import PipelineOptions

    options = PipelineOptions.from_mapping({"keypoints_only": True, "net_height": net_height, "upsample": upsample})
    result = process_views(calib, videos, out, options)
    t = result.timings
    print(f"== net height {net_height}, upsample {upsample}")
    print(f"2D passes: {t['views_s']:.1f} s wall for {len(videos)} views "
          f"({', '.join(f'{s:.1f}' for s in t['views_2d_s'])} s each)")
    print(f"fusion:    {t['fusion_s']:.2f} s ({100 * t['fusion_s'] / t['views_s']:.1f}% of the 2D passes)")
    for camera in result.summary["cameras"]:
        o, e, n = camera["offset"], camera["reprojection_px"], camera["network_input"] or {}
        auto = n.get("auto")
        print(f"  {camera['name']}: input {n.get('width')}x{n.get('height')}"
              + (f" (auto: median person {auto['median_person_px']} px at 368)" if auto else "")
              + f"; offset {o['offset_frames']:+d} frames (confidence {o['confidence']}, "
              f"epipolar {o['epipolar_px']} px); reprojection median {e['median']} px, p90 {e['p90']} px")
    frames = result.summary["frames"]
    for person in result.summary["people"]:
        print(f"person {person['person']}: in 3D in {person['frames_seen']}/{frames} frames, "
              f"median reprojection {person['reprojection_px_median']} px, "
              f"{person['cameras_per_point_mean']:g} cameras per point (mean)")
        for name, (mean, cv, count) in limb_stats(out / "keypoints_3d.csv", person["person"]).items():
            print(f"    {name:16s} {mean:.3f} m  CV {100 * cv:5.1f}%  ({count} frames)")
    for warning in result.warnings:
        print(f"warning: {warning}")
    return t


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net-height", default="auto")
    parser.add_argument("--upsample", default="2")
    parser.add_argument("--against", metavar="HEIGHT", help="also run at this network height, for the time ratio")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--calibration", type=Path, nargs="+", metavar="CALIB VIDEO",
                        help="a calibration then its videos (default: the demo)")
    args = parser.parse_args()
    if args.calibration:
        calib, videos = args.calibration[0], args.calibration[1:]
    else:
        calib, videos = DEMO / "Calib.qca.txt", [DEMO / f"cam0{i}.mp4" for i in range(1, 5)]
    with tempfile.TemporaryDirectory() as tmp:
        t = run(calib, videos, args.net_height, args.upsample, args.out or Path(tmp) / "multiview")
        if args.against:
            other = run(calib, videos, args.against, args.upsample, Path(tmp) / "against")
            print(f"2D passes at {args.net_height} / at {args.against}: {t['views_s'] / other['views_s']:.2f}x; "
                  f"whole run {t['elapsed_s'] / other['elapsed_s']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

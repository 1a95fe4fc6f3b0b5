"""Tracking ablation on vtest.avi (PETS09-S2L1) without re-running the network each time.

    .venv/bin/python bench/track_replay.py [--frames 795] [--cache PATH] [--only NAME ...]
                                          [--sensitivity]

The first run infers the first ``--frames`` frames of ``../shared/data/videos/vtest.avi`` once
(OpenVINO, ``PoseEstimator`` defaults as in the pipeline: net height 368, upsample 2; about two
minutes of CPU for all 795) and caches the people per frame in ``--cache`` (default
``$TMPDIR/posestudio-track-cache/vtest_<frames>.npz``, outside the repository): whole-person
boxes (``pose.boxes.whole_person_box``, as the pipeline tracks them), the 18 keypoints, the
person score and the torso colour histogram (``tracking.appearance``). Later runs only replay
the cache, in a second or two per variant.

Each variant runs ``tracking.Sort`` over the cached people; the "offline" ones then follow
``tracking.offline`` as the two-pass pipeline would (every track that was ever confirmed with
all its frames, stitching, gap filling, keypoint smoothing "light", box smoothing) and are scored
on frames 1-400 against ``../shared/data/mot/PETS09-S2L1-dev/gt_frames_0001-0400.txt`` with
py-motmetrics exactly as ``bench/pipeline_mot_eval.py`` scores ``tracks_mot.txt`` (flag-1 GT
rows, IoU >= 0.5). The first row, "pipeline today", is the pipeline's SORT (max_age 3,
min_hits 3, IoU 0.3; Kalman boxes of confirmed tracks) on the same detections. "IDs" counts
the distinct IDs in frames 1-400 (10 people there); "IDs 401+" those in the frames after 400
(no ground truth here; the project is judged there, so nothing is tuned on them).

Score source "parts": the tracker sees ``parts found / 18`` as each skeleton's score, so the
low-score round (threshold 0.5) holds back skeletons with fewer than 9 of 18 parts.
``--sensitivity`` moves each setting of the final row down and up, one at a time, to show how
much the numbers hang on each choice.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from mot_eval import score  # noqa: E402  (also patches NumPy for motmetrics)

from tracking import SmoothingSettings, Sort, smoothing_preset, tracklets_from_rows  # noqa: E402
from tracking.offline import TrackRecorder, finalize_tracks  # noqa: E402

VIDEO = ROOT.parent / "shared" / "data" / "videos" / "vtest.avi"
GT = ROOT.parent / "shared" / "data" / "mot" / "PETS09-S2L1-dev" / "gt_frames_0001-0400.txt"
CACHE_DIR = Path(tempfile.gettempdir()) / "posestudio-track-cache"
GT_FRAMES = 400
SHOULDERS, HIPS = (2, 5), (8, 11)  # OpenPose 18-part rows
PIPELINE = {"max_age": 3, "min_hits": 3, "iou_threshold": 0.3}


def build_cache(video: Path, frames: int, cache: Path) -> None:
    """Run the pose model once over the first ``frames`` frames and save the people."""
    import config
    from pose import PoseEstimator, load_backend
    from pose.boxes import whole_person_box
    from tracking.appearance import color_histogram, torso_box
    from videoio import VideoReader, probe

    info = probe(video)
    estimator = PoseEstimator(load_backend("openvino", config.DEFAULT_MODEL_PATH))
    rows: dict[str, list] = {"frame": [], "box": [], "keypoints": [], "score": [], "hist": []}
    start = time.perf_counter()
    count = 0
    with VideoReader(video, end_s=frames / float(info.fps) if info.fps else None) as reader:
        for frame in reader:
            count += 1
            for person in estimator.estimate(frame.image):
                if not person.num_parts:
                    continue  # the pipeline's keep_confident drops these too
                torso = torso_box(person.keypoints, SHOULDERS, HIPS)
                hist = None if torso is None else color_histogram(frame.image, torso)
                rows["frame"].append(frame.index)
                rows["box"].append(whole_person_box(person.keypoints))
                rows["keypoints"].append(person.keypoints)
                rows["score"].append(person.score)
                rows["hist"].append(np.full(128, np.nan) if hist is None else hist)
    cache.parent.mkdir(parents=True, exist_ok=True)
    arrays = {k: np.array(v) for k, v in rows.items()}
    arrays["box"], arrays["hist"] = arrays["box"].reshape(-1, 4), arrays["hist"].reshape(-1, 128)
    arrays["keypoints"] = arrays["keypoints"].reshape(-1, 18, 3)
    np.savez_compressed(cache, fps=float(info.fps), frames=count, **arrays)
    print(f"cached {len(rows['frame'])} people in {count} frames to {cache} "
          f"({time.perf_counter() - start:.0f} s)")


class Cache:
    """The cached people, grouped per frame."""

    def __init__(self, path: Path) -> None:
        data = np.load(path)
        self.fps = float(data["fps"])
        self.frames = int(data["frames"])
        frame = data["frame"]
        self.box, self.keypoints = data["box"], data["keypoints"].astype(np.float64)
        self.score, self.hist = data["score"], data["hist"]
        self.parts = (self.keypoints[:, :, 2] > 0).sum(axis=1)
        if np.any(np.diff(frame) < 0):
            raise ValueError(f"{path}: rows are not in frame order; delete it to rebuild")
        bounds = np.searchsorted(frame, np.arange(self.frames + 1))
        self.rows = [np.arange(bounds[f], bounds[f + 1]) for f in range(self.frames)]
        self.first_row = bounds[:-1]  # cache row of each frame's first person


def run_online(cache: Cache, tracker_options: dict[str, Any], score_by: str) -> list[tuple[int, int, np.ndarray]]:
    """(frame index, track ID, box) of every confirmed track as the pipeline reports it."""
    tracker = Sort(fps=cache.fps, **tracker_options)
    out = []
    for f, rows in enumerate(cache.rows):
        for obj in tracker.update(cache.box[rows], _scores(cache, rows, score_by),
                                  keypoints=cache.keypoints[rows], appearances=cache.hist[rows]):
            if obj.track_id is not None:
                out.append((f, obj.track_id, obj.box))
    return out


def run_offline(cache: Cache, tracker_options: dict[str, Any], score_by: str, *, stitch: dict | None,
                fill_gap_s: float, box_cutoff_hz: float | None = None) -> list[tuple[int, int, np.ndarray]]:
    """The whole-video path (``tracking.offline``): track with unconfirmed tracks reported,
    keep every track that was ever confirmed with all its frames, stitch (None = no), fill gaps,
    smooth keypoints ("light") and optionally boxes; (frame, person ID, box) rows."""
    tracker = Sort(fps=cache.fps, report_unconfirmed=True, **tracker_options)
    recorder = TrackRecorder()
    for f, rows in enumerate(cache.rows):
        recorder.add(f, tracker.update(cache.box[rows], _scores(cache, rows, score_by),
                                       keypoints=cache.keypoints[rows], appearances=cache.hist[rows]))
    rec = recorder.rows()
    index = cache.first_row[rec.frames] + rec.detection_indexes  # rows of the cache
    tracklets = tracklets_from_rows(rec.frames, rec.serials, rec.boxes, cache.keypoints[index], cache.hist[index])
    box_smoothing = None if box_cutoff_hz is None else SmoothingSettings(cutoff_hz=box_cutoff_hz)
    people = finalize_tracks(tracklets, fps=cache.fps, stitch=False if stitch is None else stitch,
                             max_gap_s=fill_gap_s, smoothing=smoothing_preset("light"), box_smoothing=box_smoothing)
    return [(int(f), p.person_id, b) for p in people for f, b in zip(p.frames, p.boxes_smoothed)]


def _scores(cache: Cache, rows: np.ndarray, score_by: str) -> np.ndarray:
    """The detection score the tracker sees: the person score, or the share of parts found."""
    return cache.score[rows] if score_by == "score" else cache.parts[rows] / 18.0


def evaluate(rows: list[tuple[int, int, np.ndarray]], tmp: Path, *, with_gt: bool = True) -> dict[str, float]:
    """MOTA, IDF1, ID switches on frames 1-400 (NaN without ground truth) and the ID counts."""
    metrics = {"ids": len({r[1] for r in rows if r[0] < GT_FRAMES}),
               "ids_after": len({r[1] for r in rows if r[0] >= GT_FRAMES})}
    if not with_gt:
        return dict(metrics, mota=float("nan"), idf1=float("nan"), num_switches=float("nan"))
    hyp = tmp / "hyp.txt"
    with hyp.open("w") as out:
        for f, track_id, (x1, y1, x2, y2) in sorted(rows, key=lambda r: (r[0], r[1])):
            if f < GT_FRAMES:
                out.write(f"{f + 1},{track_id},{x1:.2f},{y1:.2f},{x2 - x1:.2f},{y2 - y1:.2f},1,-1,-1,-1\n")
    return dict(score(GT, hyp), **metrics)


#: The online tracker the offline rows build on: today's SORT with a 1 s lost-track buffer and
#: the low-score round for skeletons with fewer than half of their 18 parts.
TRACKER = dict(PIPELINE, lost_track_buffer_s=1.0, low_score_threshold=0.5)
#: Box smoothing for the exported boxes (centre, width, height), Hz.
BOX_CUTOFF_HZ = 1.0


def variants() -> list[tuple[str, str, dict[str, Any], dict[str, Any] | None]]:
    """(name, score source, tracker options, offline options or None for online).

    Score source "parts" gives the tracker ``parts found / 18`` as the detection score (for the
    low-score round), "score" the person score (unused by the tracker otherwise)."""
    early = {"stitch": None, "fill_gap_s": 0.0}
    stitched = {"stitch": {}, "fill_gap_s": 0.0}
    filled = {"stitch": {}, "fill_gap_s": 0.5}
    smoothed = dict(filled, box_cutoff_hz=BOX_CUTOFF_HZ)
    return [
        ("pipeline today (SORT 3/3/0.3)", "score", PIPELINE, None),
        ("+ lost-track buffer 1 s", "score", dict(PIPELINE, lost_track_buffer_s=1.0), None),
        ("+ ORU", "score", dict(PIPELINE, observation_reupdate=True), None),
        ("+ OCR", "score", dict(PIPELINE, observation_recovery=True), None),
        ("+ low-score round (< 9 parts)", "parts", dict(PIPELINE, low_score_threshold=0.5), None),
        ("+ keypoint cost 0.3", "score", dict(PIPELINE, keypoint_weight=0.3), None),
        ("+ appearance 0.3", "score", dict(PIPELINE, appearance_weight=0.3), None),
        ("T = buffer 1 s + low-score round", "parts", TRACKER, None),
        ("T + ORU + OCR", "parts", dict(TRACKER, observation_reupdate=True, observation_recovery=True), None),
        ("T + appearance 0.3", "parts", dict(TRACKER, appearance_weight=0.3), None),
        ("today + offline stitch + gaps 0.5 s", "score", PIPELINE, filled),
        ("T + offline: early frames", "parts", TRACKER, early),
        ("T + offline: + stitching", "parts", TRACKER, stitched),
        ("T + offline: + gaps 0.5 s", "parts", TRACKER, filled),
        (f"T + offline: + box smoothing {BOX_CUTOFF_HZ:g} Hz", "parts", TRACKER, smoothed),
        ("T + appearance 0.3 + offline all", "parts", dict(TRACKER, appearance_weight=0.3), smoothed),
        ("T + ORU + OCR + offline all", "parts",
         dict(TRACKER, observation_reupdate=True, observation_recovery=True), smoothed),
    ]


def sensitivity() -> list[tuple[str, str, dict[str, Any], dict[str, Any] | None]]:
    """The final row with one setting moved at a time: how much the score hangs on each."""
    base = {"stitch": {}, "fill_gap_s": 0.5, "box_cutoff_hz": BOX_CUTOFF_HZ}
    rows = [("final", "parts", TRACKER, base)]
    for key, values in (("lost_track_buffer_s", (0.5, 2.0)), ("low_score_threshold", (0.35, 0.65))):
        rows += [(f"{key}={v}", "parts", dict(TRACKER, **{key: v}), base) for v in values]
    for key, values in (("max_gap_s", (2.0, 5.0)), ("position_tolerance", (0.3, 0.8)),
                        ("speed_tolerance", (0.25, 1.0)), ("max_size_ratio", (1.3, 2.0)),
                        ("appearance_weight", (0.0, 1.0)), ("max_cost", (0.7,))):
        rows += [(f"stitch {key}={v}", "parts", TRACKER, dict(base, stitch={key: v})) for v in values]
    rows += [(f"fill_gap_s={v}", "parts", TRACKER, dict(base, fill_gap_s=v)) for v in (0.0, 1.0)]
    rows += [(f"box_cutoff_hz={v}", "parts", TRACKER, dict(base, box_cutoff_hz=v)) for v in (None, 2.0)]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=None, help="default: <video>_<frames>.npz in the temp folder")
    parser.add_argument("--video", type=Path, default=VIDEO,
                        help="another video: no ground truth, only the ID counts (default vtest.avi)")
    parser.add_argument("--frames", type=int, default=795, help="frames to infer when building the cache")
    parser.add_argument("--only", action="append", default=[], help="run only variants whose name contains this")
    parser.add_argument("--sensitivity", action="store_true",
                        help="instead, move each setting of the final row up and down, one at a time")
    args = parser.parse_args()
    with_gt = args.video.resolve() == VIDEO.resolve()
    if not args.video.is_file() or (with_gt and not GT.is_file()):
        print(f"track_replay: data not found ({args.video}, {GT})", file=sys.stderr)
        return 2
    path = args.cache or CACHE_DIR / f"{args.video.stem}_{args.frames}.npz"
    if not path.is_file():
        build_cache(args.video, args.frames, path)
    cache = Cache(path)
    print(f"{'variant':<40}{'MOTA':>7}{'IDF1':>7}{'IDsw':>6}{'IDs':>5}{'IDs 401+':>10}{'s':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, score_by, options, offline in (sensitivity() if args.sensitivity else variants()):
            if args.only and not any(o in name for o in args.only):
                continue
            start = time.perf_counter()
            if offline is None:
                rows = run_online(cache, options, score_by)
            else:
                rows = run_offline(cache, options, score_by, **offline)
            m = evaluate(rows, Path(tmp), with_gt=with_gt)
            print(f"{name:<40}{100 * m['mota']:>7.1f}{100 * m['idf1']:>7.1f}{m['num_switches']:>6.0f}"
                  f"{m['ids']:>5}{m['ids_after']:>10}{time.perf_counter() - start:>6.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

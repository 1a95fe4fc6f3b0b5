"""What angles and the per-person exports cost per frame, next to inference, in the same run.

    .venv/bin/python bench/angles.py                      # sports2d_demo.mp4, first 150 frames
    .venv/bin/python bench/angles.py --video PATH --frames 300 --repeats 5 --long-minutes 10

1. Pass 1 as the two-pass pipeline runs it, timed: each frame is decoded, inferred (OpenVINO f32,
   one request at a time, PoseEstimator defaults: net height 368) and post-processed, and its
   people tracked (SORT, every tracklet recorded); then ``pipeline.tracks.finalize`` (stitching,
   gap filling, "light" smoothing). Inference's ms/frame is the median over the frames (the
   first 5 left out: compiling, warming up).
2. ``pipeline.people_exports.write_people_exports`` on those final rows, ``--repeats`` times
   (median), into a temporary folder: µs per processed frame and per person-frame, and the parts
   alone (limb swaps, angles raw + smoothed) from ``analyse_person``.
3. The same on a long video made by repeating the clip's people ``--long-minutes`` (default 10)
   at its frame rate, to show the cost stays per frame (and the files it writes, in MB).
4. With the angles overlay and repetitions on: repetitions are counted in every export run
   above (``write_people_exports`` counts them on each joint angle; alone: ``reps µs/f``), and
   ``pipeline.angle_overlay`` draws every joint angle of every person on the clip's frames
   (median ms a frame, over the frames with people), each as a ratio of inference's ms/frame.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import config  # noqa: E402
from analysis import available_angles  # noqa: E402
from pose import PART_NAMES, PoseEstimator, load_backend  # noqa: E402
from pose.boxes import whole_person_box  # noqa: E402
from tracking import Sort  # noqa: E402
from videoio import VideoReader, probe  # noqa: E402
from pipeline.people_exports import analyse_person, write_people_exports  # noqa: E402
from pipeline.poselog import NO_TRACK, PoseLog  # noqa: E402
from pipeline.tracks import TrackSettings, finalize  # noqa: E402

DEFAULT_VIDEO = ROOT.parent / "shared" / "data" / "videos" / "sports2d_demo.mp4"
WARMUP_FRAMES = 5


def pass_one(video: Path, frames: int, model: Path, work: Path) -> tuple[np.ndarray, float, list[float]]:
    """(final rows, fps, inference ms per frame) over the first ``frames`` frames."""
    info = probe(video)
    fps = float(info.fps)
    estimator = PoseEstimator(load_backend("openvino", model))
    tracker = Sort(max_age=3, min_hits=3, iou_threshold=0.3, report_unconfirmed=True)
    log = PoseLog(work / "pass1.rows", num_parts=len(PART_NAMES))
    confirmed: set[int] = set()
    table, infer_ms = [], []
    with VideoReader(video, end_s=frames / fps) as reader:
        for seq, frame in enumerate(reader):
            start = time.perf_counter()
            prepared = estimator.preprocess(frame.image)
            raw = estimator.infer(prepared)
            persons = [p for p in estimator.postprocess(raw, prepared) if p.num_parts]
            infer_ms.append((time.perf_counter() - start) * 1000)
            table.append((frame.index, frame.time_s))
            boxes = np.array([whole_person_box(p.keypoints) for p in persons], np.float64).reshape(-1, 4)
            matched = {}
            for obj in tracker.update(boxes, np.array([p.score for p in persons], np.float64)):
                if obj.detection_index is not None:
                    matched[obj.detection_index] = (obj.serial, obj.box)
                    if obj.track_id is not None:
                        confirmed.add(obj.serial)
            for i, person in enumerate(persons):
                serial, box = matched.get(i, (NO_TRACK, boxes[i]))
                log.add(seq, frame.index, frame.time_s, track=serial, score=person.score, box=box,
                        keypoints=person.keypoints)
    frame_table = np.array(table, dtype=[("frame", "<i4"), ("time_s", "<f8")])
    final = finalize(log.close(), frame_table=frame_table, confirmed=confirmed, appearance={}, fps=fps,
                     settings=TrackSettings(), out_path=work / "final.rows")
    return np.asarray(final.rows), fps, infer_ms[WARMUP_FRAMES:]


def repeated(rows: np.ndarray, fps: float, minutes: float) -> np.ndarray:
    """The clip's rows over and over until ``minutes`` of video (each copy's tracks get new IDs)."""
    span = int(rows["seq"].max()) + 1
    copies = max(1, int(np.ceil(minutes * 60 * fps / span)))
    ids = int(rows["person"].max())
    parts = []
    for k in range(copies):
        part = rows.copy()
        part["seq"] += k * span
        part["frame"] += k * span
        part["time_s"] += k * span / fps
        part["person"] = np.where(part["person"] > 0, part["person"] + k * ids, 0)
        parts.append(part)
    return np.concatenate(parts)


def time_exports(rows: np.ndarray, fps: float, video: dict, repeats: int) -> tuple[float, int]:
    """(median seconds of write_people_exports, bytes written)."""
    times, size = [], 0
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            write_people_exports(rows, fps=fps, video=video, out_dir=Path(folder))
            times.append(time.perf_counter() - start)
            size = sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
    return statistics.median(times), size


def time_angles(rows: np.ndarray, fps: float, repeats: int) -> float:
    """Median seconds of analyse_person (swaps + angles raw and smoothed) over every person."""
    names = available_angles(PART_NAMES)
    people = [rows[rows["person"] == pid] for pid in np.unique(rows["person"]) if pid > 0]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for person in people:
            analyse_person(person, int(person["person"][0]), names=names, fps=fps, part_names=PART_NAMES)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_reps(rows: np.ndarray, fps: float, repeats: int) -> float:
    """Median seconds of counting reps on every joint angle of every person (after analyse_person)."""
    from pipeline.people_reps import person_reps

    names = available_angles(PART_NAMES)
    people = [analyse_person(rows[rows["person"] == pid], int(pid), names=names, fps=fps, part_names=PART_NAMES)
              for pid in np.unique(rows["person"]) if pid > 0]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for data in people:
            person_reps(data)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_overlay(video: Path, rows: np.ndarray, fps: float, info, frames: int) -> float:
    """Median ms to draw every joint angle of everyone on a frame (frames with tracked people)."""
    from pipeline.angle_overlay import AngleOverlay
    from pipeline.frames import frame_people

    with tempfile.TemporaryDirectory() as folder:
        write_people_exports(rows, fps=fps, video={"width": info.width, "height": info.height}, out_dir=Path(folder))
        overlay = AngleOverlay.from_exports(Path(folder), None, PART_NAMES)
    times = []
    with VideoReader(video, end_s=frames / fps) as reader:
        for frame in reader:
            here = rows[(rows["frame"] == frame.index) & (rows["person"] > 0)]
            if not len(here):
                continue
            people = frame_people(here)
            image = frame.image.copy()
            start = time.perf_counter()
            overlay.draw(image, frame.index, people)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times) if times else float("nan")


def report(label: str, rows: np.ndarray, fps: float, video: dict, repeats: int, infer_ms: float) -> None:
    frames = int(rows["seq"].max()) + 1 if len(rows) else 0
    person_frames = int((rows["person"] > 0).sum())
    exports_s, size = time_exports(rows, fps, video, repeats)
    angles_s = time_angles(rows, fps, repeats)
    per_frame = exports_s / frames * 1e6
    print(f"{label:<34}{frames:>8}{person_frames:>10}{angles_s / frames * 1e6:>12.0f}{per_frame:>12.0f}"
          f"{exports_s / max(person_frames, 1) * 1e6:>12.0f}{per_frame / (infer_ms * 1000) * 100:>10.2f}%"
          f"{size / 1e6:>9.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--frames", type=int, default=150, help="frames of the clip to infer (default %(default)s)")
    parser.add_argument("--model", type=Path, default=config.DEFAULT_MODEL_PATH)
    parser.add_argument("--repeats", type=int, default=3, help="timed export runs, median (default %(default)s)")
    parser.add_argument("--long-minutes", type=float, default=10.0, help="length of the repeated video (0 = skip)")
    args = parser.parse_args(argv)
    info = probe(args.video)
    video = {"width": info.width, "height": info.height}
    with tempfile.TemporaryDirectory() as work:
        rows, fps, infer_ms = pass_one(args.video, args.frames, args.model, Path(work))
    infer = statistics.median(infer_ms)
    people = len(np.unique(rows["person"][rows["person"] > 0]))
    print(f"{args.video.name}: {info.width}x{info.height}, {fps:g} fps, {len(infer_ms) + WARMUP_FRAMES} frames, "
          f"{people} people tracked")
    print(f"inference (preprocess + OpenVINO f32 + postprocess), median: {infer:.1f} ms/frame "
          f"(p90 {np.percentile(infer_ms, 90):.1f})\n")
    print(f"{'write_people_exports':<34}{'frames':>8}{'person-fr':>10}{'angles µs/f':>12}{'all µs/f':>12}"
          f"{'µs/pers-f':>12}{'of infer':>11}{'MB':>9}")
    report("this clip", rows, fps, video, args.repeats, infer)
    if args.long_minutes > 0:
        long_rows = repeated(rows, fps, args.long_minutes)
        report(f"the clip repeated to {args.long_minutes:g} min", long_rows, fps, video, 1, infer)
    frames = int(rows["seq"].max()) + 1 if len(rows) else 1
    reps_us = time_reps(rows, fps, args.repeats) / frames * 1e6
    overlay_ms = time_overlay(args.video, rows, fps, info, args.frames)
    print(f"\nrepetitions (every joint angle of everyone): {reps_us:.0f} µs/frame = "
          f"{reps_us / (infer * 1000) * 100:.2f}% of inference (included in 'all' above)")
    print(f"angles overlay (every joint angle of everyone drawn): {overlay_ms:.2f} ms/frame = "
          f"{overlay_ms / infer * 100:.1f}% of inference")
    exports_us = time_exports(rows, fps, video, 1)[0] / frames * 1e6
    print(f"overlay + reps + every export: {(overlay_ms * 1000 + exports_us) / (infer * 1000):.3f} x inference")
    print("\nangles µs/f: swaps + angles (raw and smoothed) per processed frame; all: every file written "
          "(angles.csv, .mot, .trc, per-person CSV and JSON, people.json); 'of infer': all / inference.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

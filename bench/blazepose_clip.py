"""BlazePose on real clips: is the subject found, how steady is its 3D, which person does it follow.

    .venv/bin/python bench/blazepose_clip.py                       # the two default clips
    .venv/bin/python bench/blazepose_clip.py VIDEO [VIDEO ...] [--frames N] [--model blazepose-heavy]

For each video, every frame (up to ``--frames``) goes through BlazePose in video mode (as the
pipeline runs it) and through OpenPose (OpenVINO f32, height 368) in the same run, in turns.
Prints: frames with a person (BlazePose; OpenPose: frames with anyone, and the most people in a
frame); the length of the thighs and upper arms in BlazePose's world coordinates (median, and
coefficient of variation over the frames: a rigid bone should keep its length); ms/frame of
both; and, where OpenPose sees several people, whether BlazePose is on one of them (the OpenPose
person whose whole-person box holds most of BlazePose's 33 points) and how often its person's
hips jump (move more than 10% of the frame's larger side from one frame to the next: it went
from one person to another).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import av
import numpy as np

import config
from analysis.world import coefficient_of_variation, segment_lengths
from pose import BLAZEPOSE_33
from pose.boxes import whole_person_box
from pose.models import load_estimator

ROOT = Path(__file__).resolve().parent.parent

VIDEOS = ROOT.parent / "shared" / "data" / "videos"
DEFAULT_VIDEOS = (VIDEOS / "pose2sim_trial1_cam01.mp4", VIDEOS / "sports2d_demo.mp4")


def followed(blaze_points: np.ndarray, openpose_people: list) -> tuple[int | None, list]:
    """(index of the OpenPose person holding most BlazePose points, their boxes)."""
    boxes = [whole_person_box(p.keypoints) for p in openpose_people]
    inside = [int(((blaze_points[:, 0] >= x1) & (blaze_points[:, 0] <= x2) &
                   (blaze_points[:, 1] >= y1) & (blaze_points[:, 1] <= y2)).sum()) for x1, y1, x2, y2 in boxes]
    if not inside or max(inside) < 10:
        return None, boxes
    return int(np.argmax(inside)), boxes


def run(video: Path, frames: int, openpose, blazepose) -> None:
    blazepose.reset()
    world, blaze_ms, open_ms, open_counts, found, follows, hips = [], [], [], [], 0, [], []
    with av.open(str(video)) as container:
        for n, frame in enumerate(container.decode(video=0)):
            if n >= frames:
                break
            image, t = frame.to_ndarray(format="bgr24"), round(float(frame.time) * 1000)
            start = time.perf_counter()
            people = blazepose.estimate(image, timestamp_ms=t)
            blaze_ms.append(1000 * (time.perf_counter() - start))
            start = time.perf_counter()
            others = [p for p in openpose.estimate(image) if p.num_parts >= 6]
            open_ms.append(1000 * (time.perf_counter() - start))
            open_counts.append(len(others))
            found += bool(people)
            world.append(people[0].world if people else np.full((33, 3), np.nan, np.float32))
            hips.append(people[0].keypoints[[23, 24], :2].mean(axis=0) if people else np.full(2, np.nan))
            if people and len(others) > 1:
                index, boxes = followed(people[0].keypoints, others)
                follows.append(index)
    count = len(world)
    height, width = image.shape[:2]
    print(f"\n{video.name}: {count} frames of {width}x{height}")
    print(f"  BlazePose: a person in {found}/{count} frames ({found / count:.1%}); "
          f"OpenPose: someone in {sum(c > 0 for c in open_counts)}/{count}, up to {max(open_counts)} people a frame")
    lengths = segment_lengths(np.stack(world), BLAZEPOSE_33.part_names)
    for name, values in lengths.items():
        print(f"  {name:<16} median {np.nanmedian(values):.3f} m   coefficient of variation "
              f"{coefficient_of_variation(values):6.1%}")
    base = statistics.median(open_ms)
    print(f"  ms/frame: BlazePose {statistics.median(blaze_ms):.1f} ({statistics.median(blaze_ms) / base:.2f}x), "
          f"OpenPose {base:.1f} (medians, same run, in turns)")
    track = np.array(hips)
    track = track[np.isfinite(track[:, 0])]
    steps = np.linalg.norm(np.diff(track, axis=0), axis=1)
    jumps = np.flatnonzero(steps > 0.1 * max(width, height)) + 1
    print(f"  BlazePose's hips: median step {np.median(steps):.1f} px/frame, {len(jumps)} jump(s) of > 10% of "
          f"{max(width, height)} px (at found frame(s) {jumps.tolist()[:10]})")
    if follows:
        on = sum(x is not None for x in follows)
        print(f"  {len(follows)} frames where OpenPose sees several people: BlazePose's points lie in one of "
              f"their boxes in {on}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("videos", nargs="*", type=Path, default=list(DEFAULT_VIDEOS))
    parser.add_argument("--frames", type=int, default=300, help="at most this many frames per video")
    parser.add_argument("--model", default="blazepose", choices=("blazepose-lite", "blazepose", "blazepose-heavy"),
                        help="which BlazePose model (default: %(default)s)")
    args = parser.parse_args(argv)
    openpose = load_estimator("openpose", model_path=config.DEFAULT_MODEL_PATH)
    blazepose = load_estimator(args.model)
    for video in args.videos:
        run(video, args.frames, openpose, blazepose)
    return 0


if __name__ == "__main__":
    sys.exit(main())

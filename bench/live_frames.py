"""What a hostile live frame costs before and after the frame check (live.frames), printed.

The probe's frame: a progressive 1280x720 JPEG within both live limits (512 KiB, 1280 x 720)
whose first luma AC scan is repeated tens of thousands of times. Printed: the seconds OpenCV
takes to decode it (what the live server did before, outside LIVE_THREADS), the seconds
``decode_frame`` takes to refuse it now, and a real 1280x720 frame's decode beside them.

    .venv/bin/python bench/live_frames.py [--repeats 42839]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "live")]

from hostile_jpegs import repeated_scan  # noqa: E402
from live.frames import FrameError, decode_frame, jpeg_layout  # noqa: E402

LIMITS = {"max_bytes": 512 * 1024, "max_pixels": 1280 * 720}


def best_of(runs: int, call) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=42_000, help="repeats of the scan (default: %(default)s, "
                        "which fits 512 KiB)")
    args = parser.parse_args()
    hostile = repeated_scan(args.repeats)
    layout = jpeg_layout(hostile)
    print(f"hostile frame: {len(hostile):,} bytes, {layout.width}x{layout.height}, {layout.scans:,} scans")
    clip = ROOT.parent / "shared" / "data" / "videos" / "sports2d_demo.mp4"
    ok, picture = cv2.VideoCapture(str(clip)).read() if clip.is_file() else (False, None)
    picture = cv2.resize(picture, (1280, 720)) if ok else np.random.default_rng(0).integers(0, 255, (720, 1280, 3), np.uint8)
    normal = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
    print(f"normal 1280x720 frame decode (cv2.imdecode): {best_of(5, lambda: cv2.imdecode(np.frombuffer(normal, np.uint8), cv2.IMREAD_COLOR)) * 1000:.1f} ms")
    print(f"hostile frame decode, as before (cv2.imdecode): {best_of(1, lambda: cv2.imdecode(np.frombuffer(hostile, np.uint8), cv2.IMREAD_COLOR)):.2f} s")

    def refuse() -> None:
        try:
            decode_frame(hostile, **LIMITS)
        except FrameError as exc:
            assert exc.status == 413
        else:
            raise AssertionError("the hostile frame was decoded")
    print(f"hostile frame refused now (decode_frame -> 413): {best_of(3, refuse) * 1000:.1f} ms")
    print(f"normal frame through decode_frame: {best_of(5, lambda: decode_frame(normal, **LIMITS)) * 1000:.1f} ms")


if __name__ == "__main__":
    main()

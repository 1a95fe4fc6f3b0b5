"""Worker memory under the worst options and frame sizes the resource limits accept.

    .venv/bin/python bench/abuse_memory.py [--frames 12] [--only NAME ...]

Makes synthetic clips with PyAV in a temporary folder, then runs each case as a worker runs a
job (``load_pipeline_backend`` with two inference requests, ``process_video`` under
``config.ResourceLimits()``: the defaults) in a fresh interpreter, and prints that process's
peak RSS: after loading the model, and over the whole job. The first case is the baseline
(a 1920x1080 clip at default options), in the same run. The last runs every worst case one
after another in one process, as a worker meets them (compiled network shapes are cached).
Before that it shows that the issue's abusive uploads are refused (no model needed).

The worst cases (each at a limit, per config.ResourceLimits):
- frames of the most pixels, 4096x2160, default options: the most bytes per frame in flight;
- the widest such frames, 8192x1080 (aspect 7.6: the network input is clamped to 4:1);
- the largest network input, 512 x 2048 (net_height 512 on a 4:1 clip), at upsample 8:
  the network pixel and heatmap pixel limits both reached, on the widest largest frames;
- the same network on cv2.dnn (``backend=opencv``, which a job may ask for);
- upsample 16 at net_height 256 on 4:1 (the heatmap limit at the most upsampling);
- quality accurate (4 scales + mirror) on the largest 16:9 frames: its 1.5x input and every
  scale's input and output per frame in flight;
- every other model at its worst: BlazePose heavy on the largest frames; OpenPose's COCO Caffe
  network (a replica with random weights, bench/caffe_cost.py: CMU's weights are not here) at
  the largest network input its memory cost lets through (net_height 432 on 4:1: 432 x 1728 x
  1.4 mobilenet_thin pixels), its frames counted 21 times against MAX_FRAMES.
Refused too: the Caffe model at the network input mobilenet_thin may have (512 x 2048).

Image jobs (``--images``, in the same run unless ``--only`` leaves them out): a photo at
MAX_IMAGE_PIXELS (JPEG, 8660x5773) at quality accurate, the worker's largest decode; a batch of
MAX_IMAGES (500) tiny photos; and, refused at upload from their headers alone, a 30000x30000
decompression bomb and a ZIP of 3,000 tiny photos.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES: dict[str, tuple[tuple[int, int], dict]] = {
    "baseline 1920x1080, default options": ((1920, 1080), {}),
    "4096x2160 frames (most pixels), default options": ((4096, 2160), {}),
    "8192x1080 frames (widest), default options": ((8192, 1080), {}),
    "8192x1080, net_height 512 (512x2048 network), upsample 8": ((8192, 1080), {"net_height": 512, "upsample": 8}),
    "8192x1080, net_height 512, upsample 8, backend opencv": (
        (8192, 1080), {"net_height": 512, "upsample": 8, "backend": "opencv"}),
    "2048x512, net_height 256, upsample 16": ((2048, 512), {"net_height": 256, "upsample": 16}),
    "4096x2160, quality accurate (4 scales + mirror)": ((4096, 2160), {"quality": "accurate"}),
    "4096x2160 frames, blazepose-heavy": ((4096, 2160), {"model": "blazepose-heavy"}),
    "8192x1080, openpose-caffe-coco (replica), net_height 432 (432x1728)": (
        (8192, 1080), {"model": "openpose-caffe-coco", "net_height": 432}),
}
#: Image jobs: (photo width, height, how many) and options.
IMAGE_CASES: dict[str, tuple[tuple[int, int, int], dict]] = {
    "1 photo 8660x5773 (MAX_IMAGE_PIXELS), quality accurate": ((8660, 5773, 1), {"quality": "accurate"}),
    "500 photos 64x48 (MAX_IMAGES), quality accurate": ((64, 48, 500), {"quality": "accurate"}),
}
REFUSED = {
    "the issue's 1600x400 clip, net_height 2048, upsample 16": ((1600, 400), {"net_height": 2048, "upsample": 16}),
    "the issue's 1600x400 clip, net_height 1024, upsample 16": ((1600, 400), {"net_height": 1024, "upsample": 16}),
    "the issue's 8192x8192 frames": ((8192, 8192), {}),
    "8192x1080, openpose-caffe-coco, net_height 512 (mobilenet_thin's largest)": (
        (8192, 1080), {"model": "openpose-caffe-coco", "net_height": 512}),
}


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def rss_mb() -> float:
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """This process's peak RSS. Not ru_maxrss: Linux carries that over from before exec, so a
    child of this (large) script would report at least the parent's size at the fork."""
    return _status_mb("VmHWM")


def make_clip(path: Path, width: int, height: int, frames: int) -> Path:
    """Smooth moving gradients (cheap to encode at any size), 25 fps, H.264."""
    import av
    import numpy as np

    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(25))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.options = {"preset": "ultrafast"}
        for i in range(frames):
            grey = ((x + y + 9 * i) % 256).astype(np.uint8)
            image = np.dstack([grey, np.roll(grey, i, axis=1), 255 - grey])
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def run_jobs(jobs: list[tuple[Path, dict]]) -> dict:
    """In this process, as a worker: one backend per kind, then each job in turn."""
    from config import ResourceLimits
    from workers.memory import return_freed_memory_at_once
    from pipeline.video import PipelineOptions, load_pipeline_backend, process_video

    return_freed_memory_at_once()  # as each worker process does (workers.celery_app)
    from bench.caffe_cost import write_replica
    from pipeline.video import load_caffe_backend

    backends: dict[tuple, object] = {}
    started = time.perf_counter()
    after_load = None
    frames = 0
    with tempfile.TemporaryDirectory() as out:
        for index, (clip, values) in enumerate(jobs):
            options = PipelineOptions.from_mapping({"screenshot_interval_s": 1, **values})
            key = (options.model, options.backend)
            if key not in backends:
                backends[key] = (load_caffe_backend(write_replica(Path(out) / "replica"), expect="coco")
                                 if options.model == "openpose-caffe-coco" else load_pipeline_backend(options))
            if after_load is None:
                after_load = rss_mb()
            result = process_video(clip, Path(out) / str(index), options, backend=backends[key],
                                   limits=ResourceLimits())
            frames += result.frames_processed
            in_flight = result.timings["frames_in_flight"]
    return {"after_load_mb": after_load, "peak_mb": peak_rss_mb(), "frames": frames,
            "seconds": time.perf_counter() - started, "in_flight": in_flight}


def make_photos(folder: Path, width: int, height: int, count: int) -> list[Path]:
    """``count`` JPEG photos of ``width`` x ``height`` (a gradient; the decode is what costs)."""
    import cv2
    import numpy as np

    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    grey = ((x + y) % 256).astype(np.uint8)
    image = np.dstack([grey, 255 - grey, grey])
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"{i:04d}.jpg"
        cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 80])
        paths.append(path)
    return paths


def run_images(photos: list[Path], values: dict) -> dict:
    """As a worker runs an image job: the backend, then ``pipeline.images.process_images``."""
    from config import ResourceLimits
    from pipeline.images import PhotoInput, process_images
    from workers.memory import return_freed_memory_at_once
    from pipeline.video import PipelineOptions, load_pipeline_backend

    return_freed_memory_at_once()
    options = PipelineOptions.from_mapping(values)
    backend = load_pipeline_backend(options)
    after_load = rss_mb()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        result = process_images([PhotoInput(p.name, p) for p in photos], Path(out) / "job", options,
                                backend=backend, limits=ResourceLimits())
    return {"after_load_mb": after_load, "peak_mb": peak_rss_mb(), "frames": len(result.people),
            "seconds": time.perf_counter() - started, "in_flight": 1}


def show_image_refusals(folder: Path) -> None:
    """The abusive photo uploads, refused from their headers (no model, nothing decoded)."""
    import struct
    import zipfile
    import zlib

    from config import ResourceLimits
    from pose.errors import InvalidImageError
    from pose.photos import read_header
    from web.zip_images import ArchiveError, extract_photos

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    bomb = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    limits = ResourceLimits()
    before = peak_rss_mb()
    try:
        read_header(bomb, name="bomb.png", max_pixels=limits.max_image_pixels)
        print("  ACCEPTED (should not be): a 30000x30000 PNG")
    except InvalidImageError as exc:
        print(f"  refused: a {len(bomb)}-byte PNG declaring 30000x30000\n    {exc}")
    archive = folder / "tiny.zip"
    tiny = make_photos(folder / "tiny", 16, 16, 1)[0].read_bytes()
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(3000):
            zf.writestr(f"{i:04d}.jpg", tiny)
    try:
        extract_photos(archive, folder, name="tiny.zip", max_entries=4 * limits.max_images + 100,
                       max_entry_bytes=320 * 1024**2, max_total_bytes=2 * 1024**3)
        print("  ACCEPTED (should not be): a ZIP of 3,000 photos")
    except ArchiveError as exc:
        print(f"  refused: a ZIP of 3,000 tiny photos\n    {exc}")
    print(f"  (this process's peak RSS went from {before:.0f} to {peak_rss_mb():.0f} MB meanwhile)")


def measure(jobs: list[tuple[Path, dict]], *, images: bool = False) -> dict:
    spec = json.dumps([[str(clip), values] for clip, values in jobs])
    flag = "--images-one" if images else "--one"
    done = subprocess.run([sys.executable, __file__, flag, spec], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"a run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def show_refusals(folder: Path) -> None:
    from config import ResourceLimits
    from videoio import probe
    from pipeline.limits import LimitExceeded, check_job
    from pipeline.options import PipelineOptions

    for label, ((width, height), values) in REFUSED.items():
        clip = make_clip(folder / f"refused-{width}x{height}.mp4", width, height, 1)
        try:
            check_job(probe(clip), PipelineOptions.from_mapping(values), ResourceLimits(), name=clip.name)
            print(f"  ACCEPTED (should not be): {label}")
        except LimitExceeded as exc:
            print(f"  refused: {label}\n    {exc}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=12, help="frames per clip (default 12: more than the "
                        "most frames in flight of the largest frames, so the pipeline fills up)")
    parser.add_argument("--only", nargs="*", help="run only the cases whose name contains one of these")
    parser.add_argument("--no-sequence", action="store_true", help="skip the all-cases-in-one-process run")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--images-one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_jobs([(Path(clip), values) for clip, values in json.loads(args.one)])))
        return 0
    if args.images_one:
        folder, values = json.loads(args.images_one)[0]
        print(json.dumps(run_images(sorted(Path(folder).glob("*.jpg")), values)))
        return 0
    cases = {k: v for k, v in CASES.items() if not args.only or any(s in k for s in args.only)}
    image_cases = {k: v for k, v in IMAGE_CASES.items() if not args.only or any(s in k for s in args.only)}
    with tempfile.TemporaryDirectory(prefix="abuse-memory-") as tmp:
        folder = Path(tmp)
        print("over the limits (refused at submit and by the pipeline):")
        show_refusals(folder)
        clips = {}
        for (width, height), _ in cases.values():
            if (width, height) not in clips:
                clips[width, height] = make_clip(folder / f"{width}x{height}.mp4", width, height, args.frames)
        print(f"\nworker peak RSS, each case in a fresh process ({args.frames} frames each):")
        print(f"{'case':60s} {'after load MB':>13s} {'peak MB':>8s} {'in flight':>9s} {'s':>6s}")
        worst = 0.0
        for label, (size, values) in cases.items():
            r = measure([(clips[size], values)])
            worst = max(worst, r["peak_mb"])
            print(f"{label:60s} {r['after_load_mb']:13.0f} {r['peak_mb']:8.0f} {r['in_flight']:9d} {r['seconds']:6.1f}")
        if not args.no_sequence:
            r = measure([(clips[size], values) for size, values in cases.values()])
            print(f"{'all of the above, one after another in one process':60s} {r['after_load_mb']:13.0f} "
                  f"{r['peak_mb']:8.0f} {'':9s} {r['seconds']:6.1f}")
            worst = max(worst, r["peak_mb"])
        if image_cases:
            print("\nimage jobs: abusive uploads (refused from their headers):")
            show_image_refusals(folder)
            print(f"\nimage jobs: worker peak RSS, each in a fresh process:")
            for label, ((width, height, count), values) in image_cases.items():
                photos = folder / f"photos-{width}x{height}x{count}"
                make_photos(photos, width, height, count)
                r = measure([(photos, values)], images=True)
                worst = max(worst, r["peak_mb"])
                print(f"{label:60s} {r['after_load_mb']:13.0f} {r['peak_mb']:8.0f} {'':9s} {r['seconds']:6.1f}")
        print(f"\nworst worker peak RSS: {worst:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Inference and post-processing cost per frame, per backend and network input size.

    .venv/bin/python bench/infer.py                 # 640x480 frame from a real COCO photo
    .venv/bin/python bench/infer.py --repeats 30 --image path/to/frame.jpg
    .venv/bin/python bench/infer.py --model blazepose [--video V --frames N]   # lite, full, heavy
    .venv/bin/python bench/infer.py --model blazepose-heavy,blazepose

For each backend (cv2.dnn, OpenVINO f32, OpenVINO bf16, OpenVINO f32 with two requests in
flight from two threads, as the video pipeline runs it, and ONNX Runtime f32 on the CPU, alone
and two in flight, when its model is converted: `make onnx`) and each input size (432x368 and
656x368 fixed, and height 368 with the width following the frame's aspect), prints the median
ms/frame over ``--repeats`` warm calls and its ratio to cv2.dnn at the same size, measured in
this run. Then post-processing (PoseEstimator.postprocess: peaks, PAF scoring, assembly,
mapping to source pixels) per size and upsampling factor, on the OpenVINO f32 output. The
backends are measured in turns (round-robin per repeat) so that machine load drifts hit all
of them alike.

``--model blazepose`` (all three BlazePose models, or names separated by commas): ms/frame of
each BlazePose model (MediaPipe, video mode, one frame at a time as the
pipeline runs it: colour conversion, both networks, landmarks) on the first ``--frames`` frames
of a real video (default the 1080x1920 Pose2Sim clip), beside OpenPose's whole ``estimate``
(OpenVINO f32, height 368) on the same frames in the same run, and the share of frames with a
person.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

import config
from pose import BackendUnavailableError, InferenceBackend, PoseError, PoseEstimator, load_backend, read_image
from pose.backends import CPU
from pose.preprocess import prepare_input

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_IMAGE = ROOT.parent / "shared" / "data" / "coco" / "images" / "000000370162.jpg"  # 11 people
SIZES: tuple[tuple[str, int | None], ...] = (("432x368", 432), ("656x368", 656), ("h368 aspect", None))


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000.0


def _two_in_flight(backend: InferenceBackend, tensor: np.ndarray, frames: int = 8) -> Callable[[], float]:
    """ms per frame when two threads keep one request each in flight (throughput, not latency)."""
    def run() -> float:
        threads = [threading.Thread(target=lambda: [backend.infer(tensor) for _ in range(frames // 2)])
                   for _ in range(2)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return (time.perf_counter() - start) * 1000.0 / frames
    return run


def load_backends(model: Path) -> dict[str, InferenceBackend]:
    backends = {"cv2.dnn f32": load_backend("opencv", model), "openvino f32": load_backend("openvino", model)}
    try:
        backends["openvino bf16"] = load_backend("openvino", model, precision="bf16")
    except BackendUnavailableError as exc:
        print(f"(openvino bf16 skipped: {exc})")
    backends["openvino f32 x2 in flight"] = load_backend("openvino", model, parallel_requests=2)
    try:
        backends["onnxruntime f32 (cpu)"] = load_backend("onnxruntime", model, device=CPU)
        backends["onnxruntime f32 x2 in flight"] = load_backend("onnxruntime", model, device=CPU, parallel_requests=2)
    except PoseError as exc:
        print(f"(onnxruntime skipped: {exc})")
    return backends


def bench_inference(backends: dict[str, InferenceBackend], frame: np.ndarray, repeats: int) -> dict:
    medians: dict[tuple[str, str], float] = {}
    for size_name, net_width in SIZES:
        tensor = prepare_input(frame, net_height=368, net_width=net_width).tensor
        runs: dict[str, Callable[[], float]] = {}
        for name, backend in backends.items():
            backend.infer(tensor)  # compile this shape, warm up
            runs[name] = (_two_in_flight(backend, tensor) if backend.parallel_requests > 1
                          else (lambda b=backend: _timed(lambda: b.infer(tensor))))
        samples: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(repeats):
            for name, run in runs.items():
                samples[name].append(run())
        for name, values in samples.items():
            medians[(name, size_name)] = statistics.median(values)
    return medians


def bench_postprocess(model_backend: InferenceBackend, frame: np.ndarray, repeats: int) -> list[tuple]:
    rows = []
    for size_name, net_width in SIZES:
        for upsample in (2, 4, 8):
            estimator = PoseEstimator(model_backend, net_width=net_width, upsample=upsample)
            prepared = estimator.preprocess(frame)
            raw = estimator.infer(prepared)
            people = len(estimator.postprocess(raw, prepared))
            times = [_timed(lambda: estimator.postprocess(raw, prepared)) for _ in range(repeats)]
            pre = statistics.median(_timed(lambda: estimator.preprocess(frame)) for _ in range(repeats))
            rows.append((size_name, prepared.network_size, upsample, statistics.median(times), pre, people))
    return rows


def bench_models(video: Path, frames: int, model_path: Path, names: tuple[str, ...]) -> None:
    """BlazePose beside OpenPose, ms/frame on the same real frames (see the module docstring)."""
    import av

    from pose.models import load_estimator

    with av.open(str(video)) as container:
        images = []
        for frame in container.decode(video=0):
            images.append((frame.to_ndarray(format="bgr24"), round(float(frame.time) * 1000)))
            if len(images) >= frames:
                break
    estimators = {"openpose (openvino f32, h368)": load_estimator("openpose", model_path=model_path),
                  **{f"{name} (mediapipe, video mode)": load_estimator(name) for name in names}}
    for estimator in estimators.values():  # warm up: first-call set-up is not per-frame cost
        estimator.estimate(images[0][0], timestamp_ms=0)
        estimator.reset()
    times = {name: [] for name in estimators}
    found = {name: 0 for name in estimators}
    for image, t in images:  # in turns, so that machine load hits both alike
        for name, estimator in estimators.items():
            start = time.perf_counter()
            people = estimator.estimate(image, timestamp_ms=t + 1000)
            times[name].append((time.perf_counter() - start) * 1000.0)
            found[name] += bool(people)
    height, width = images[0][0].shape[:2]
    base = statistics.median(times["openpose (openvino f32, h368)"])
    print(f"\n{video.name}: {len(images)} frames of {width}x{height}, ms/frame (median; x OpenPose in this run)")
    for name, values in times.items():
        ms = statistics.median(values)
        print(f"{name:<40}{ms:9.1f} ms ({ms / base:4.2f}x)  p90 {np.percentile(values, 90):7.1f} ms  "
              f"person found in {found[name] / len(images):6.1%} of frames")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", type=Path, default=DEFAULT_IMAGE, help="photo to use (resized to 640x480)")
    parser.add_argument("--model", default=str(config.DEFAULT_MODEL_PATH),
                        help="blazepose, or OpenPose's graph_opt.pb (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=15, help="timed calls per cell (default: %(default)s)")
    parser.add_argument("--video", type=Path, default=ROOT.parent / "shared" / "data" / "videos" /
                        "pose2sim_trial1_cam01.mp4", help="--model blazepose: the video (default: %(default)s)")
    parser.add_argument("--frames", type=int, default=60, help="--model blazepose: frames (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.model.startswith("blazepose"):
        from pose.models import BLAZEPOSE_COMPLEXITY

        names = tuple(BLAZEPOSE_COMPLEXITY) if args.model == "blazepose" else tuple(args.model.split(","))
        if any(n not in BLAZEPOSE_COMPLEXITY for n in names):
            parser.error(f"--model: BlazePose models are {', '.join(BLAZEPOSE_COMPLEXITY)}")
        bench_models(args.video, args.frames, config.DEFAULT_MODEL_PATH, names)
        return 0
    args.model = Path(args.model)
    frame = cv2.resize(read_image(args.image), (640, 480), interpolation=cv2.INTER_AREA)
    backends = load_backends(args.model)
    medians = bench_inference(backends, frame, args.repeats)

    print(f"\nInference on a 640x480 frame ({args.image.name}), median of {args.repeats}, ms/frame (x cv2.dnn)")
    print(f"{'backend':<28}" + "".join(f"{name:>22}" for name, _ in SIZES))
    for name in backends:
        cells = []
        for size_name, _ in SIZES:
            ms, base = medians[(name, size_name)], medians[("cv2.dnn f32", size_name)]
            cells.append(f"{ms:9.1f} ms ({ms / base:4.2f}x)")
        print(f"{name:<28}" + "".join(f"{c:>22}" for c in cells))
    print("(h368 aspect = 496x368 for 640x480; 'x2 in flight' is throughput: two threads, two requests)")

    print(f"\nPost-processing (peaks + PAF assembly + mapping) and pre-processing, median of {args.repeats}")
    print(f"{'input':<14}{'network':>10}{'upsample':>10}{'post ms':>10}{'pre ms':>9}{'people':>8}")
    for size_name, (w, h), upsample, post_ms, pre_ms, people in bench_postprocess(
            backends["openvino f32"], frame, args.repeats):
        print(f"{size_name:<14}{f'{w}x{h}':>10}{upsample:>10}{post_ms:>10.2f}{pre_ms:>9.2f}{people:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

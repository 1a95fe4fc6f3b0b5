"""Does the pipeline keep the GPU fed? One command, one JSON document on stdout.

    .venv/bin/python bench/gpu.py [--backend NAME] [--device DEV] [--small] [--video PATH]
                                  [--frames N] [--jobs N] [--batch-size N] [--postprocess-workers N]

- ``inference``: frames/s of ``backend.infer`` alone, by precision (f32, fp16; a precision the
  backend refuses is listed in ``skipped`` with its reason), input size (432x368, 656x368 for
  16:9, 768x576) and batch size (1, 8, 32, 64); random input, the first call (compiling,
  allocating) not timed;
- ``end_to_end``: ``pipeline.video.process_video`` on one video (frames/s, CPU ms per
  frame, and each stage's busy ms per frame: decode, preprocess, infer, postprocess, track,
  and pass 2's decode, draw, encode), then ``--jobs`` videos at once in separate processes, as
  a worker with ``WORKER_CONCURRENCY`` jobs per GPU runs them (frames/s of all together); each
  run is a fresh process, so its time includes loading the model and preparing each input shape,
  as a worker's first job of that size does (use enough ``--frames`` to make that small);
- ``gpu_utilisation`` of each part: nvidia-smi sampled every 0.5 s while it runs (mean and max
  percent of time a kernel ran, most memory used), or null with the reason.

``--small``: tiny sizes, batches 1-4 and a few frames, so that it runs on a CPU in about a
minute (``tests/test_bench_gpu.py`` runs it and checks the document). On a shared machine other
load slows every number; compare numbers from one run.
"""
from __future__ import annotations

import argparse
import inspect
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import config  # noqa: E402

VIDEO = ROOT.parent / "shared" / "data" / "videos" / "vtest.avi"
FULL = {"sizes": [(432, 368), (656, 368), (768, 576)], "batches": [1, 8, 32, 64], "min_s": 2.0,
        "frames": 300, "net_height": 368}
SMALL = {"sizes": [(96, 64), (160, 96)], "batches": [1, 4], "min_s": 0.3, "frames": 8, "net_height": 96}
PRECISIONS = ("f32", "fp16")


class GpuSampler:
    """nvidia-smi every ``interval_s`` in a thread while the ``with`` block runs."""

    def __init__(self, interval_s: float = 0.5) -> None:
        self.interval_s, self.samples, self.reason = interval_s, [], None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from workers.gpus import GpuQueryError, utilisation
        while not self._stop.is_set():
            try:
                now = utilisation()
            except GpuQueryError as exc:
                self.reason = str(exc)
                return
            if not now:
                self.reason = "nvidia-smi not found or lists no GPU"
                return
            self.samples.append(now)
            self._stop.wait(self.interval_s)

    def __enter__(self) -> "GpuSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict | None:
        busy = [pct for sample in self.samples for pct, _ in sample.values() if pct is not None]
        memory = [mib for sample in self.samples for _, mib in sample.values() if mib is not None]
        if not busy:
            return None
        return {"samples": len(self.samples), "mean_percent": round(sum(busy) / len(busy), 1),
                "max_percent": max(busy), "max_memory_mib": max(memory) if memory else None}

    def report(self) -> dict:
        summary = self.summary()
        return {"gpu_utilisation": summary,
                "gpu_utilisation_reason": None if summary else (self.reason or "no sample taken")}


def load(backend: str, precision: str, device: str | None, *, parallel_requests: int = 1):
    """The backend, or raise ValueError/PoseError saying why not (a refused precision, device)."""
    from pose import load_backend
    kwargs = {"precision": precision}
    if device is not None:
        if "device" not in inspect.signature(load_backend).parameters:
            raise ValueError("this tree's load_backend takes no device; it runs on the CPU")
        kwargs["device"] = config.parse_device(device)
    if backend in ("openvino", "onnxruntime", "torch"):
        kwargs["parallel_requests"] = parallel_requests
    return load_backend(backend, config.DEFAULT_MODEL_PATH, **kwargs)


def bench_inference(args: argparse.Namespace, plan: dict) -> dict:
    import numpy as np
    from pose import PoseError
    rows, skipped = [], []
    with GpuSampler() as sampler:
        for precision in PRECISIONS:
            try:
                backend = load(args.backend, precision, args.device)
            except (ValueError, PoseError) as exc:
                skipped.append({"precision": precision, "reason": str(exc)})
                continue
            for width, height in plan["sizes"]:
                for batch in plan["batches"]:
                    data = np.random.default_rng(0).uniform(0, 255, (batch, height, width, 3)).astype(np.float32)
                    backend.infer(data)  # compile / allocate, not timed
                    calls, t0 = 0, time.perf_counter()
                    while calls < 2 or time.perf_counter() - t0 < plan["min_s"]:
                        backend.infer(data)
                        calls += 1
                    seconds = time.perf_counter() - t0
                    rows.append({"precision": precision, "width": width, "height": height, "batch": batch,
                                 "fps": round(calls * batch / seconds, 2),
                                 "ms_per_batch": round(1000 * seconds / calls, 2)})
            del backend
    return {"results": rows, "skipped": skipped, **sampler.report()}


def one_video(args: argparse.Namespace, plan: dict) -> dict:
    """process_video on ``args.video`` (this process); numbers for one job."""
    import tempfile
    from pipeline.execution import Execution
    from pipeline.video import PipelineOptions, process_video
    from videoio import probe
    options = PipelineOptions(end_s=args.frames / float(probe(args.video).fps),
                              net_height=args.net_height or plan["net_height"], screenshot_interval_s=0,
                              keypoints_only=args.keypoints_only, backend=args.backend, precision=args.precision)
    execution = Execution.parse(batch_size=args.batch_size, postprocess_workers=args.postprocess_workers)
    backend = load(args.backend, args.precision, args.device, parallel_requests=2)
    with tempfile.TemporaryDirectory() as tmp:
        start, c0 = time.time(), _cpu_s()
        result = process_video(args.video, Path(tmp) / "out", options, backend=backend, execution=execution)
        end, cpu = time.time(), _cpu_s() - c0
    n = result.frames_processed
    stages = {k[:-len("_busy_s")]: round(1000 * v / n, 2) for k, v in result.timings.items() if k.endswith("_busy_s")}
    return {"video": args.video.name, "frames": n, "start": start, "end": end, "fps": round(n / (end - start), 2),
            "cpu_ms_per_frame": round(1000 * cpu / n, 2), "batch_size": result.timings["batch_size"],
            "postprocess_workers": result.timings["postprocess_workers"], "stage_busy_ms_per_frame": stages}


def _cpu_s() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _child(args: argparse.Namespace) -> subprocess.Popen:
    command = [sys.executable, __file__, "--one-video", "--backend", args.backend, "--video", str(args.video),
               "--frames", str(args.frames), *(["--small"] if args.small else []),
               "--precision", args.precision, *(["--keypoints-only"] if args.keypoints_only else []),
               *(["--net-height", str(args.net_height)] if args.net_height else []),
               *(["--device", args.device] if args.device else []),
               *(["--batch-size", str(args.batch_size)] if args.batch_size else []),
               *(["--postprocess-workers", str(args.postprocess_workers)] if args.postprocess_workers else [])]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)


def _collect(procs: list[subprocess.Popen]) -> list[dict]:
    results = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"bench/gpu.py: a video run failed (exit {proc.returncode})")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def bench_end_to_end(args: argparse.Namespace) -> dict:
    with GpuSampler() as one_sampler:
        (one,) = _collect([_child(args)])
    with GpuSampler() as many_sampler:
        many = _collect([_child(args) for _ in range(args.jobs)])
    frames = sum(r["frames"] for r in many)
    wall = max(r["end"] for r in many) - min(r["start"] for r in many)
    return {"one_video": {**{k: v for k, v in one.items() if k not in ("start", "end")}, **one_sampler.report()},
            "concurrent": {"jobs": args.jobs, "frames": frames, "wall_s": round(wall, 2),
                           "fps": round(frames / wall, 2), "fps_per_job": [r["fps"] for r in many],
                           **many_sampler.report()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="openvino", help="inference backend (default openvino)")
    parser.add_argument("--device", help="the backend's device, e.g. gpu:0 (backends that take one)")
    parser.add_argument("--small", action="store_true", help="tiny sizes and few frames: about a minute on a CPU")
    parser.add_argument("--video", type=Path, default=VIDEO, help=f"end-to-end video (default {VIDEO.name})")
    parser.add_argument("--frames", type=int, help="end-to-end frames per video (default 300; --small 8)")
    parser.add_argument("--jobs", type=int, default=2, help="videos at once for the concurrent run (default 2)")
    parser.add_argument("--batch-size", type=int, help="end to end: frames per inference call (default 1)")
    parser.add_argument("--postprocess-workers", help="end to end: post-processing processes (default auto)")
    parser.add_argument("--precision", default="f32", help="end to end: the backend's precision (default f32)")
    parser.add_argument("--keypoints-only", action="store_true", help="end to end: no annotated video")
    parser.add_argument("--net-height", type=int, help="end to end: network height (default 368; --small 96)")
    parser.add_argument("--one-video", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    plan = SMALL if args.small else FULL
    args.frames = args.frames or plan["frames"]
    if not args.video.is_file():
        parser.error(f"video {args.video} not found")
    if args.one_video:
        print(json.dumps(one_video(args, plan)))
        return 0
    from workers.gpus import GpuQueryError, list_gpus
    try:
        gpus = [vars(g) for g in list_gpus()]
    except GpuQueryError as exc:
        gpus = [{"error": str(exc)}]
    document = {"backend": args.backend, "device": args.device, "small": args.small,
                "host": {"cpus": os.cpu_count(), "gpus": gpus,
                         "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")},
                "inference": bench_inference(args, plan), "end_to_end": bench_end_to_end(args)}
    print(json.dumps(document, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

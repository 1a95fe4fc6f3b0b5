"""The torch backend on a GPU, measured in one go: one JSON document and a log.

    bench/device_check.sh [--cpu-dry-run]        # installs the carried wheels, then runs this
    python3 bench/device_check.py --out DIR [--cpu-dry-run] [--budget-s 330]

Sections, in order, each skipped (saying so) once the time budget is spent:

- ``inference``: frames/s of the network alone (``TorchBackend.infer_tensor`` on a batch already
  on the device, synchronised), by precision (f32, fp16, bf16) x batch (1, 8, 32, 64) x size
  (496x368 and 688x512: 4:3 at heights 368 and 512);
- ``device_pipeline``: frames/s of ``DevicePoseEstimator.infer_batch`` (uint8 frames up, resize,
  network, peaks, peaks and PAFs back) at batch 32 and 496x368, per precision: what the
  pipeline's inference stage can give at most;
- ``end_to_end``: ``bench/gpu.py``'s one-video runs (``pipeline.video.process_video``, each in
  a fresh process, nvidia-smi sampled): vtest.avi and the 720p clip alone, keypoints only; the
  720p clip alone with the annotated video; then 4 and 8 copies at once (keypoints only). Each
  run's per-stage busy milliseconds per frame say which stage holds it back;
- ``coco``: ``bench/coco_eval.py --backend torch`` on the device at f32, fp16 and bf16 (AP of the
  CPU post-processing of the device's outputs, and of the device-side path), beside the CPU
  figure measured on the development machine (``bench/results/coco_torch_cpu.json``).

``--cpu-dry-run``: the same code at tiny sizes on the CPU (f32 only; the other precisions are
listed as refused with the backend's reason), a few frames, three COCO images: it checks the
script, not the speed. Data comes from ``--data`` (default ``.device-data``, filled by
``make device-data``; ``../shared`` does not travel to a lent GPU machine).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import gpu as gpu_bench  # noqa: E402  (bench/gpu.py: the end-to-end runs and the nvidia-smi sampler)

FULL = {"precisions": ("f32", "fp16", "bf16"), "batches": (1, 8, 32, 64), "sizes": ((496, 368), (688, 512)),
        "min_s": 0.4, "pipeline_batch": 32, "net_height": 368, "frames": None, "jobs": (4, 8),
        "batch_size": 32, "coco_limit": None, "coco_precisions": ("f32", "fp16", "bf16"), "coco_net_height": 368, "dry": False}
DRY = {"precisions": ("f32", "fp16", "bf16"), "batches": (1, 2), "sizes": ((64, 48), (96, 64)),
       "min_s": 0.05, "pipeline_batch": 2, "net_height": 96, "frames": 6, "jobs": (2,),
       "batch_size": 2, "coco_limit": 3, "coco_precisions": ("f32",), "coco_net_height": 96, "dry": True}
SHORT_720P = "openpose_examples_media_video.avi"  # 205 frames, 1280x720, 50 fps
LONG_FRAMES = 2050  # the 720p clip looped: a 200-frame clip is gone before the GPU warms up


def make_loop(source: Path, frames: int) -> Path:
    """``source`` looped to ``frames`` frames, re-encoded (libx264 ultrafast) into the temporary
    folder: the clip that travels stays small (1.4 MB instead of ~29 MB)."""
    import tempfile

    import av
    target = Path(tempfile.gettempdir()) / "posestudio-device-check" / f"{source.stem}_loop{frames}.mp4"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(source)) as inp:
        stream = inp.streams.video[0]
        rate, width, height = stream.average_rate, stream.codec_context.width, stream.codec_context.height
        images = [f.to_ndarray(format="yuv420p") for f in inp.decode(stream)]
    partial = target.with_suffix(".partial.mp4")
    with av.open(str(partial), "w") as out:
        encoder = out.add_stream("libx264", rate=rate, options={"preset": "ultrafast", "crf": "23"})
        encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            out.mux(encoder.encode(av.VideoFrame.from_ndarray(images[i % len(images)], format="yuv420p")))
        out.mux(encoder.encode(None))
    partial.rename(target)
    return target


class Log:
    """Lines to stdout and to ``device_check.log`` in the output folder, with elapsed seconds."""

    def __init__(self, out: Path) -> None:
        self.t0, self.file = time.monotonic(), (out / "device_check.log").open("a")

    def __call__(self, text: str) -> None:
        line = f"[{time.monotonic() - self.t0:6.1f}s] {text}"
        print(line, flush=True)
        self.file.write(line + "\n")
        self.file.flush()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.t0


def _sync(torch, device) -> None:  # noqa: ANN001
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def inference(plan: dict, device_text: str, model: Path, log: Log, deadline: float) -> dict:
    import torch

    from pose import PoseError, load_backend
    from config import parse_device
    rows, skipped = [], []
    for precision in plan["precisions"]:
        try:
            backend = load_backend("torch", model, device=parse_device(device_text), precision=precision)
        except (PoseError, ValueError) as exc:
            skipped.append({"precision": precision, "reason": str(exc)})
            log(f"inference {precision}: skipped: {exc}")
            continue
        for width, height in plan["sizes"]:
            for batch in plan["batches"]:
                if time.monotonic() > deadline:
                    skipped.append({"precision": precision, "width": width, "batch": batch, "reason": "time budget"})
                    continue
                with torch.inference_mode():
                    x = torch.randint(0, 256, (batch, 3, height, width), device=backend.torch_device).float()
                    for _ in range(2):  # cuDNN autotuning for this shape, allocation
                        backend.infer_tensor(x)
                    _sync(torch, backend.torch_device)
                    calls, t0 = 0, time.perf_counter()
                    while calls < 3 or time.perf_counter() - t0 < plan["min_s"]:
                        backend.infer_tensor(x)
                        calls += 1
                    _sync(torch, backend.torch_device)
                    seconds = time.perf_counter() - t0
                row = {"precision": precision, "width": width, "height": height, "batch": batch,
                       "fps": round(calls * batch / seconds, 1), "ms_per_batch": round(1000 * seconds / calls, 3)}
                rows.append(row)
                log(f"inference {precision} {width}x{height} batch {batch}: {row['fps']} frames/s")
        del backend
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    return {"results": rows, "skipped": skipped}


def device_pipeline(plan: dict, device_text: str, model: Path, video: Path, log: Log, deadline: float) -> dict:  # noqa: E501
    """DevicePoseEstimator.infer_batch on real decoded frames (one batch, repeated)."""
    import torch

    from config import parse_device
    from pose import PoseError, load_backend
    from pose.device_estimator import DevicePoseEstimator
    from videoio import VideoReader
    reader = VideoReader(video)
    frames = [frame.image for _, frame in zip(range(plan["pipeline_batch"]), reader)]
    reader.close()
    rows, skipped = [], []
    for precision in plan["precisions"]:
        if time.monotonic() > deadline:
            skipped.append({"precision": precision, "reason": "time budget"})
            continue
        try:
            backend = load_backend("torch", model, device=parse_device(device_text), precision=precision)
        except (PoseError, ValueError) as exc:
            skipped.append({"precision": precision, "reason": str(exc)})
            continue
        estimator = DevicePoseEstimator(backend, net_height=plan["net_height"])
        prepared = [estimator.preprocess(f) for f in frames]
        estimator.infer_batch(prepared)
        calls, t0 = 0, time.perf_counter()
        while calls < 3 or time.perf_counter() - t0 < plan["min_s"] * 2:
            out = estimator.infer_batch(prepared)  # ends with the copy back: synchronised
            calls += 1
        seconds = time.perf_counter() - t0
        people = sum(len(estimator.postprocess(o, p)) for o, p in zip(out, prepared))
        row = {"precision": precision, "batch": len(frames), "network_size": list(prepared[0].network_size),
               "fps": round(calls * len(frames) / seconds, 1), "people_in_batch": people}
        rows.append(row)
        log(f"device pipeline {precision} batch {len(frames)} at {row['network_size']}: {row['fps']} frames/s, "
            f"{people} people")
        del backend, estimator
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    return {"video": video.name, "results": rows, "skipped": skipped}


def _args(plan: dict, device_text: str, video: Path, *, keypoints_only: bool, frames: int, jobs: int,
          dry: bool) -> types.SimpleNamespace:
    workers = "auto" if jobs == 1 else str(max(1, (os.cpu_count() or 2) // jobs - 1))
    return types.SimpleNamespace(backend="torch", device=device_text, video=video, frames=frames, small=dry,
                                 precision="fp16" if not dry else "f32", keypoints_only=keypoints_only,
                                 net_height=plan["net_height"], batch_size=plan["batch_size"],
                                 postprocess_workers=workers, jobs=jobs)


def _frames_of(video: Path) -> int:
    from videoio import probe
    info = probe(video)
    return int(info.frame_count or round(info.duration_s * float(info.fps)))


def end_to_end(plan: dict, device_text: str, data: Path, long_clip: Path, log: Log, deadline: float,
               dry: bool) -> dict:
    runs = []
    vtest = data / "videos" / "vtest.avi"
    plans = [("vtest alone, keypoints only", vtest, True, 1), ("720p alone, keypoints only", long_clip, True, 1),
             ("720p alone, annotated video", long_clip, False, 1)]
    plans += [(f"720p x{n} at once, keypoints only", long_clip, True, n) for n in plan["jobs"]]
    if dry:  # each run is a fresh process (seconds to import torch): fewer of them in a dry run
        plans = [p for p in plans if p[0] != "720p alone, keypoints only"]
    for label, video, keypoints_only, jobs in plans:
        if time.monotonic() > deadline:
            runs.append({"run": label, "skipped": "time budget"})
            log(f"end to end {label}: skipped (time budget)")
            continue
        frames = plan["frames"] or _frames_of(video)
        args = _args(plan, device_text, video, keypoints_only=keypoints_only, frames=frames, jobs=jobs, dry=dry)
        with gpu_bench.GpuSampler() as sampler:
            try:
                results = gpu_bench._collect([gpu_bench._child(args) for _ in range(jobs)])
            except SystemExit as exc:
                runs.append({"run": label, "error": str(exc)})
                log(f"end to end {label}: FAILED {exc}")
                continue
        total = sum(r["frames"] for r in results)
        wall = max(r["end"] for r in results) - min(r["start"] for r in results)
        entry = {"run": label, "video": video.name, "jobs": jobs, "precision": args.precision,
                 "batch_size": args.batch_size, "postprocess_workers": args.postprocess_workers,
                 "frames": total, "wall_s": round(wall, 2), "fps": round(total / wall, 1),
                 "per_job": [{k: v for k, v in r.items() if k not in ("start", "end")} for r in results],
                 **sampler.report()}
        runs.append(entry)
        util = entry["gpu_utilisation"] or {}
        log(f"end to end {label}: {entry['fps']} frames/s over {total} frames; GPU busy "
            f"{util.get('mean_percent', '-')}% (mean); stages ms/frame of the first job: "
            f"{results[0]['stage_busy_ms_per_frame']}")
    return {"runs": runs}


def coco(plan: dict, device_text: str, data: Path, out: Path, log: Log, deadline: float) -> dict:
    rows, reference = [], ROOT / "bench" / "results" / "coco_torch_cpu.json"
    for precision in plan["coco_precisions"]:
        if time.monotonic() > deadline:
            rows.append({"precision": precision, "skipped": "time budget"})
            continue
        target = out / f"coco_{precision}.json"
        command = [sys.executable, str(ROOT / "bench" / "coco_eval.py"), "--backend", "torch", "--device",
                   device_text, "--precision", precision, "--data", str(data / "coco"), "--json", str(target),
                   "--net-height", str(plan["coco_net_height"])]
        if plan["coco_limit"]:
            command += ["--limit", str(plan["coco_limit"])]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        log(f"coco {precision}: exit {done.returncode}\n{done.stdout.strip()}\n{done.stderr.strip()[-800:]}")
        if done.returncode == 0 and target.is_file():
            rows.append(json.loads(target.read_text()))
            target.unlink()
        else:
            rows.append({"precision": precision, "error": (done.stderr.strip().splitlines() or ["?"])[-1]})
    return {"results": rows,
            "cpu_reference": json.loads(reference.read_text()) if reference.is_file() else None}


def host(device_text: str) -> dict:
    import numpy
    import torch
    found = {"python": platform.python_version(), "torch": torch.__version__, "cuda": torch.version.cuda,
             "numpy": numpy.__version__, "cpus": os.cpu_count(), "device": device_text}
    if device_text.startswith("gpu"):
        found["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    try:
        from workers.gpus import list_gpus
        found["nvidia_smi"] = [vars(g) for g in list_gpus()]
    except Exception as exc:  # noqa: BLE001 - no nvidia-smi here: say so
        found["nvidia_smi"] = str(exc)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT") or "device-check-out"))
    parser.add_argument("--data", type=Path, default=ROOT / ".device-data")
    parser.add_argument("--cpu-dry-run", action="store_true", help="tiny sizes on the CPU: checks the script")
    parser.add_argument("--budget-s", type=float, default=330.0, help="stop starting sections after this long")
    args = parser.parse_args(argv)
    import config
    args.out.mkdir(parents=True, exist_ok=True)
    log = Log(args.out)
    plan = DRY if args.cpu_dry_run else FULL
    device_text = "cpu" if args.cpu_dry_run else "gpu:0"
    model = config.DEFAULT_MODEL_PATH
    missing = [p for p in (model.with_suffix(".onnx"), args.data / "videos" / "vtest.avi",
                           args.data / "videos" / SHORT_720P, args.data / "coco" / "person_keypoints_dev.json")
               if not p.is_file()]
    if missing:
        print(f"device_check: missing {', '.join(map(str, missing))}: run `make device-data` (and `make onnx`)",
              file=sys.stderr)
        return 2
    deadline = time.monotonic() + args.budget_s
    document: dict = {"dry_run": args.cpu_dry_run, "host": host(device_text), "plan": {k: v for k, v in plan.items()}}
    log(f"host: {document['host']}")
    long_clip = make_loop(args.data / "videos" / SHORT_720P, plan["frames"] or LONG_FRAMES)
    log(f"{long_clip.name}: {long_clip.stat().st_size / 1e6:.1f} MB")
    sections = (("inference", lambda: inference(plan, device_text, model, log, deadline)),
                ("device_pipeline", lambda: device_pipeline(plan, device_text, model, long_clip, log, deadline)),
                ("end_to_end", lambda: end_to_end(plan, device_text, args.data, long_clip, log, deadline,
                                                      args.cpu_dry_run)),
                ("coco", lambda: coco(plan, device_text, args.data, args.out, log, deadline)))
    for name, run in sections:
        started = time.monotonic()
        try:
            document[name] = run()
        except Exception as exc:  # noqa: BLE001 - one section failing must not lose the others
            import traceback
            log(f"{name}: FAILED\n{traceback.format_exc()}")
            document[name] = {"error": f"{type(exc).__name__}: {exc}"}
        document.setdefault("section_s", {})[name] = round(time.monotonic() - started, 1)
        (args.out / "device_check.json").write_text(json.dumps(document, indent=2))  # kept after each section
    log(f"done in {log.elapsed:.0f} s: {args.out / 'device_check.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

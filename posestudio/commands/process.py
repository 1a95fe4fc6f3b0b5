"""``posestudio process VIDEO --out DIR``: run the video pipeline with a progress bar."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import config
from posestudio.commands.model_arg import add_model_arguments, resolve_model
from posestudio.inference import add_backend_flags, resolve

# (flag, option field, help); values are passed as text to PipelineOptions.from_mapping, which
# checks them, so the CLI and the web form give the same messages.
_OPTION_FLAGS: tuple[tuple[str, str, str], ...] = (
    ("--backend", "backend", "inference backend: openvino (default), onnxruntime or opencv"),
    ("--precision", "precision",
     "f32 (default, exact), bf16 (openvino, faster, less exact) or fp16 (onnxruntime on a GPU with TensorRT)"),
    ("--net-height", "net_height", "network input height, multiple of 8, or auto (default: 368, up to 512 when the people are small)"),
    ("--net-width", "net_width", "fixed network input width, multiple of 8 (default: follow the video's aspect)"),
    ("--upsample", "upsample", "heatmap upsampling before peak finding (default 2)"),
    ("--quality", "quality", "fast (0.75 of the network size), balanced (default, one pass) or accurate "
     "(4 scales and the mirror, averaged: ~11x slower, more accurate)"),
    ("--screenshot-interval", "screenshot_interval_s", "seconds between screenshots, 0 = none (default 5)"),
    ("--max-people", "max_people", "keep at most this many people per frame, best first (default all)"),
    ("--keypoint-threshold", "keypoint_threshold", "drop parts below this confidence (default 0)"),
    ("--start", "start_s", "start time in seconds (default 0)"),
    ("--end", "end_s", "end time in seconds (default: the end of the video)"),
    ("--stride", "frame_stride", "process every n-th frame (default 1)"),
    ("--max-age", "max_age", "SORT: frames a track survives unmatched (default 3)"),
    ("--min-hits", "min_hits", "SORT: matches before a track gets an ID (default 3)"),
    ("--iou-threshold", "iou_threshold", "SORT: least IoU to match (default 0.3)"),
    ("--lost-track-buffer", "lost_track_buffer_s",
     "seconds a lost person's track waits to be found again (default 1; replaces --max-age)"),
    ("--stitch", "stitch", "link a person's tracks across longer gaps after the whole video: true (default) or false"),
    ("--fill-gaps", "fill_gaps_s", "fill a person's gaps up to this many seconds, flagged interpolated (default 0.5; 0 = none)"),
    ("--smoothing", "smoothing", "keypoint smoothing: off, light (default, 6 Hz) or strong (3 Hz); raw values are kept"),
    ("--angles", "angles", "angles to export per person, names separated by commas, or all (default)"),
    ("--person-height-m", "person_height_m", "height of the person seen longest, metres: positions in metres too"),
    ("--overlay-angles", "overlay_angles", "joint angles to draw on the video (arc, value, panel): all or names"),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "process",
        help="track skeletons in a video: annotated MP4, screenshots and keypoint exports",
        description="Detect every person's skeleton on every frame, track them (SORT with ByteTrack's "
        "second round), then, over the whole video, stitch each person's tracks into one ID, fill short "
        "gaps and smooth the keypoints, and write annotated.mp4, keypoints.json/.csv, openpose_json.zip "
        "(OpenPose only), tracks_mot.txt "
        "and screenshots/ into DIR (written elsewhere first and moved there when complete). "
        "The web app's memory limits apply (frame size, network size, upsampling; the environment "
        "variables MAX_FRAME_PIXELS, MAX_NETWORK_PIXELS, MAX_HEATMAP_PIXELS, MAX_IN_FLIGHT_MB "
        "change them, 0 = none); frames and screenshots are not limited unless MAX_FRAMES or "
        "MAX_SCREENSHOTS say so.",
    )
    parser.add_argument("video", type=Path, metavar="VIDEO", help="the input video")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder (an earlier result there is replaced)")
    add_model_arguments(parser)
    parser.add_argument("--net-size", metavar="WxH", help="fixed network input size, e.g. 432x368")
    parser.add_argument("--skeleton-only", action="store_true", help="draw skeletons on black")
    parser.add_argument("--keypoints-only", action="store_true",
                        help="write the keypoint exports only: no annotated video, no screenshots")
    for flag, _, text in _OPTION_FLAGS:
        parser.add_argument(flag, metavar="VALUE", help=text)
    parser.add_argument("--batch-size", metavar="N",
                        help="frames per inference call (default 1, the fastest on a CPU; 8 to 64 on a GPU); "
                        "changes the speed, never the result")
    parser.add_argument("--postprocess-workers", metavar="N|auto",
                        help="processes for peaks and PAF assembly: 0 = in the pipeline's thread, "
                        "auto (default) = cores - 1 beside a GPU, else 0")
    add_backend_flags(parser, backend=False)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def options_from_args(args: argparse.Namespace) -> Any:
    """PipelineOptions from the parsed flags; raises ValueError with a message naming the flag's field."""
    from pipeline.video import PipelineOptions

    values: dict[str, Any] = {field: getattr(args, flag[2:].replace("-", "_"))
                              for flag, field, _ in _OPTION_FLAGS}
    values = {k: v for k, v in values.items() if v is not None}
    values["model"] = resolve_model(args)[0]
    if args.net_size:
        width, sep, height = args.net_size.lower().partition("x")
        if not sep:
            raise ValueError(f"--net-size must look like 432x368, got {args.net_size!r}")
        values.update(net_width=width, net_height=height)
    if args.skeleton_only:
        values["skeleton_only"] = True
    if args.keypoints_only:
        values["keypoints_only"] = True
    return PipelineOptions.from_mapping(values)


def check_out_dir(out: Path, video: Path) -> None:
    """Raise ValueError unless ``out`` is new, empty or an earlier result: the pipeline replaces
    the folder whole, so a slip like ``--out ~/Videos`` would otherwise delete that folder."""
    from pipeline.exports import KEYPOINTS_JSON
    from pipeline.video import ANNOTATED_VIDEO

    if not out.exists():
        return
    if not out.is_dir():
        raise ValueError(f"--out {out} exists and is not a folder")
    if out.resolve() in video.resolve().parents:
        raise ValueError(f"--out {out} holds the input video, and the folder is replaced")
    names = {p.name for p in out.iterdir()}
    if names and not names & {ANNOTATED_VIDEO, KEYPOINTS_JSON}:
        raise ValueError(f"--out {out} is not empty and holds no earlier results, and the folder "
                         "is replaced: name a new or empty folder")


def failure(prog: str, exc: Exception, out: Path) -> int:
    """Say why a run failed in one line on stderr (an OSError with the file it concerns, else
    ``out``) and return the exit status, 1."""
    if isinstance(exc, OSError):
        print(f"{prog}: {exc.strerror or exc}: {exc.filename or out}", file=sys.stderr)
    else:
        print(f"{prog}: {exc}", file=sys.stderr)
    return 1


def run(args: argparse.Namespace) -> int:
    from pose import PoseError
    from videoio import VideoError
    from pipeline.execution import Execution
    from pipeline.video import PipelineCancelled, process_video

    prog = "posestudio process"
    bar = _ProgressBar(enabled=not args.quiet)
    try:
        options = options_from_args(args)
        execution = Execution.parse(batch_size=args.batch_size, postprocess_workers=args.postprocess_workers)
    except (ValueError, PoseError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    if options.model != "openpose" and args.model_path is None:  # a path given says itself what is wrong
        from pipeline.model_files import not_installed_line

        missing = not_installed_line(options.model, resolve_model(args)[1])
        if missing:
            print(f"{prog}: {missing}", file=sys.stderr)
            return 1
    resolved = resolve(prog, options.backend, args.device)
    if isinstance(resolved, int):
        return resolved
    device, described = resolved
    try:
        check_out_dir(args.out, args.video)
        limits = config.ResourceLimits.from_env(defaults=config.CLI_LIMITS)
        result = process_video(args.video, args.out, options, model_path=resolve_model(args)[1], device=device,
                               on_progress=bar.update, limits=limits, execution=execution)
    except (VideoError, PoseError, ValueError, PipelineCancelled, OSError) as exc:
        bar.close()
        return failure(prog, exc, args.out)
    finally:
        bar.close()
    fps = result.timings["fps"]
    print(f"{result.out_dir}: {result.frames_processed} frames at {fps:.1f} fps, "
          f"{result.tracks} track(s), {len(result.screenshots)} screenshot(s); "
          f"{options.backend} {options.precision} on {described}")
    for warning in result.warnings:
        print(f"{prog}: warning: {warning}", file=sys.stderr)
    return 0


class _ProgressBar:
    """tqdm bars on stderr fed by the pipeline's Progress callbacks: one per pass, each named by
    ``prefix`` (e.g. "view 2/4 ", set by ``posestudio multiview``) and the pass's stage."""

    def __init__(self, *, enabled: bool) -> None:
        self._enabled = enabled
        self._bar = None
        self._stage = ""
        self.prefix = ""

    def update(self, progress: Any) -> None:
        if not self._enabled or progress.stage == "probing":
            return
        if progress.stage in ("tracking", "finalizing"):  # a pass ended: its bar ends full
            if self._bar is not None:
                self._bar.total = progress.frames_done
                self._bar.update(progress.frames_done - self._bar.n)
            self.close()
            return
        if self.prefix + progress.stage != self._stage or self._bar is None:
            self.close()
            from tqdm import tqdm
            self._stage = self.prefix + progress.stage
            self._bar = tqdm(total=progress.frames_total, unit="frame", file=sys.stderr, dynamic_ncols=True,
                             desc=self._stage)
        total = progress.frames_total
        if total is not None and self._bar.total != total:
            self._bar.total = max(total, progress.frames_done)
        self._bar.update(progress.frames_done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

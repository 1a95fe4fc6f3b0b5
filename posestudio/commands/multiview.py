"""``posestudio multiview CALIB VIDEO [VIDEO ...] --out DIR``: people in 3D from synchronised views."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import config
from posestudio.commands.model_arg import add_model_arguments, resolve_model
from posestudio.commands.process import _OPTION_FLAGS, _ProgressBar, failure, options_from_args
from posestudio.inference import add_backend_flags, resolve


# What differs from ``posestudio process``: "auto" sizes each view for triangulation.
_MULTIVIEW_HELP = {"--net-height": "network input height, multiple of 8, or auto (default: per view, the median "
                                   "person made 160 px tall at the input for triangulation, 368 to 656)"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "multiview",
        help="people in 3D from 2 to 8 synchronised videos and their calibration",
        description="Run every view through the 2D pipeline, put the views on one time line (the offsets "
        "given, or estimated from the people's motion seen through the calibration), match each view's people "
        "to the others' by epipolar geometry, triangulate them, track them in 3D with one ID per person, and "
        "write keypoints_3d.csv, angles_3d.csv, people/person_<id>.trc (OpenSim, metres, Y up), "
        "calibration.toml (Pose2Sim's format), multiview.json and each view's 2D outputs (views/) into DIR "
        "(written elsewhere first and moved there when complete). Videos are matched to cameras by name "
        "(cam01.mp4 -> camera cam01).",
    )
    parser.add_argument("calibration", type=Path, metavar="CALIB",
                        help="the cameras' calibration: Pose2Sim's Calib.toml or a Qualisys .qca.txt")
    parser.add_argument("videos", type=Path, nargs="+", metavar="VIDEO", help="2 to 8 videos, one per camera")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="output folder (an earlier result there is replaced)")
    parser.add_argument("--offsets", metavar="N,N,...",
                        help="each video's offset in frames, in the videos' order (video i's frame f shows the "
                        "moment of the first video's frame f + N_i); default: estimated")
    parser.add_argument("--annotated", action="store_true",
                        help="also write each view's annotated video and screenshots (default: keypoints only)")
    add_model_arguments(parser)
    parser.add_argument("--net-size", metavar="WxH", help="fixed network input size, e.g. 432x368")
    parser.set_defaults(skeleton_only=False, keypoints_only=True)
    for flag, _, text in _OPTION_FLAGS:
        parser.add_argument(flag, metavar="VALUE", help=_MULTIVIEW_HELP.get(flag, text))
    add_backend_flags(parser, backend=False)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def parse_offsets(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(f"--offsets must be whole numbers of frames separated by commas, got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    from multiview.errors import MultiviewError
    from pose import PoseError
    from videoio import VideoError
    from pipeline.multiview import process_views
    from pipeline.video import PipelineCancelled

    prog = "posestudio multiview"
    args.keypoints_only = not args.annotated
    try:
        options = options_from_args(args)
        offsets = parse_offsets(args.offsets)
    except ValueError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    resolved = resolve(prog, options.backend, args.device)
    if isinstance(resolved, int):
        return resolved
    device, _ = resolved
    bar = _ProgressBar(enabled=not args.quiet)

    def progress(p) -> None:
        if p.view_progress is not None:
            bar.prefix = f"view {p.view}/{p.views} "
            bar.update(p.view_progress)

    try:
        _check_out_dir(args.out, args.videos)
        limits = config.ResourceLimits.from_env(defaults=config.CLI_LIMITS)
        result = process_views(args.calibration, args.videos, args.out, options, offsets=offsets, device=device,
                               model_path=resolve_model(args)[1], on_progress=progress, limits=limits)
    except (MultiviewError, VideoError, PoseError, ValueError, PipelineCancelled, OSError) as exc:
        bar.close()
        return failure(prog, exc, args.out)
    finally:
        bar.close()
    s = result.summary
    offsets_text = ", ".join(f"{c['name']} {c['offset']['offset_frames']:+d}" for c in s["cameras"])
    print(f"{result.out_dir}: {len(s['people'])} person(s) in 3D over {s['frames']} frames; offsets (frames) "
          f"{offsets_text}; 2D {result.timings['views_s']:.1f} s, fusion {result.timings['fusion_s']:.1f} s")
    for person in s["people"]:
        print(f"  person {person['person']}: seen in 3D in {person['frames_seen']} frames "
              f"({100 * person['fraction_of_frames']:.0f}%), median reprojection {person['reprojection_px_median']} px")
    for warning in result.warnings:
        print(f"{prog}: warning: {warning}", file=sys.stderr)
    return 0


def _check_out_dir(out: Path, videos: list[Path]) -> None:
    """As ``posestudio process``: the folder is replaced whole, so it must be new, empty or an
    earlier multi-view result, and hold no input."""
    if not out.exists():
        return
    if not out.is_dir():
        raise ValueError(f"--out {out} exists and is not a folder")
    for video in videos:
        if out.resolve() in video.resolve().parents:
            raise ValueError(f"--out {out} holds the input video {video.name}, and the folder is replaced")
    names = {p.name for p in out.iterdir()}
    if names and "multiview.json" not in names:
        raise ValueError(f"--out {out} is not empty and holds no earlier results, and the folder "
                         "is replaced: name a new or empty folder")

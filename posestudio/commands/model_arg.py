"""``--model``: which pose model (``posestudio models`` lists them), or, as before it named models, the
path of OpenPose's graph; ``--model-path``: that graph, said explicitly."""
from __future__ import annotations

import argparse
from pathlib import Path

import config
from pose.models import DEFAULT_MODEL, MODEL_NAMES


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=DEFAULT_MODEL, metavar="NAME",
                        help=f"pose model: {', '.join(MODEL_NAMES)} (default: %(default)s; `posestudio models` says "
                             "which are installed); a path is taken "
                             "as OpenPose's graph_opt.pb, as before")
    parser.add_argument("--model-path", type=Path, metavar="FILE",
                        help=f"OpenPose's graph_opt.pb (default: {config.DEFAULT_MODEL_PATH})")


def resolve_model(args: argparse.Namespace) -> tuple[str, Path]:
    """(model name, OpenPose graph path). Raises ValueError for a contradiction."""
    value = str(args.model).strip()
    if value.lower() in MODEL_NAMES:
        name, path = value.lower(), None
    elif value.endswith(".pb") or "/" in value or Path(value).exists():
        name, path = "openpose", Path(value)  # a graph file, as --model meant before it named models
    else:
        raise ValueError(f"unknown model {value!r}; choose one of {', '.join(MODEL_NAMES)} (or give OpenPose's "
                         "graph_opt.pb with --model-path)")
    if args.model_path is not None:
        if path is not None:
            raise ValueError("give the graph with --model-path or --model, not both")
        if name != "openpose":
            raise ValueError(f"--model-path is OpenPose's graph; the {name} model ships with its package")
        path = args.model_path
    return name, path or config.DEFAULT_MODEL_PATH

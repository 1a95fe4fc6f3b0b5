"""``--model``: which pose model (``posestudio models`` lists them), or, as before it named models, the
path of OpenPose's graph; ``--model-path``: that graph, said explicitly, or an OpenPose Caffe model's
folder or .prototxt (``--model openpose-caffe`` recognises its kind: COCO, MPI or BODY_25)."""
from __future__ import annotations

import argparse
from pathlib import Path

import config
from pose.models import CAFFE_KINDS, DEFAULT_MODEL, MODEL_NAMES
from pose.registry import CAFFE_MODELS, OPENPOSE_CAFFE


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=DEFAULT_MODEL, metavar="NAME",
                        help=f"pose model: {', '.join(MODEL_NAMES)} or {OPENPOSE_CAFFE} (with --model-path; its "
                             "kind is read from the files) (default: %(default)s; `posestudio models` says which are "
                             "installed); a path is taken as OpenPose's graph_opt.pb, as before")
    parser.add_argument("--model-path", type=Path, metavar="PATH",
                        help=f"OpenPose's graph_opt.pb (default: {config.DEFAULT_MODEL_PATH}), or an OpenPose Caffe "
                             "model's folder or .prototxt (its .caffemodel beside it)")


def resolve_model(args: argparse.Namespace) -> tuple[str, Path]:
    """(model name, path of its files: OpenPose's graph, or a Caffe model's folder or prototxt).
    Raises ValueError for a contradiction, and pose's ModelLoadError when ``openpose-caffe``'s
    files are not an OpenPose Caffe model."""
    value = str(args.model).strip()
    if value.lower() == OPENPOSE_CAFFE:
        if args.model_path is None:
            raise ValueError(f"--model {OPENPOSE_CAFFE} needs --model-path, the model's folder or .prototxt "
                             f"(or name the kind: {', '.join(CAFFE_KINDS)})")
        from pose.caffe_openpose import find_caffe_files, recognise

        return CAFFE_MODELS[recognise(find_caffe_files(args.model_path)[0]).name], args.model_path
    if value.lower() in MODEL_NAMES:
        name, path = value.lower(), None
    elif value.endswith(".pb") or "/" in value or Path(value).exists():
        name, path = "openpose", Path(value)  # a graph file, as --model meant before it named models
    else:
        raise ValueError(f"unknown model {value!r}; choose one of {', '.join(MODEL_NAMES)} or {OPENPOSE_CAFFE} "
                         "(or give OpenPose's graph_opt.pb with --model-path)")
    if args.model_path is not None:
        if path is not None:
            raise ValueError("give the graph with --model-path or --model, not both")
        if name != "openpose" and name not in CAFFE_KINDS:
            raise ValueError(f"--model-path is OpenPose's graph or a Caffe model's files; the {name} model's files "
                             "are found where `posestudio models` says")
        path = args.model_path
    return name, path or config.DEFAULT_MODEL_PATH

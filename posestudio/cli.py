"""The ``posestudio`` command: one sub-command per module in :mod:`posestudio.commands`.

Every command module exposes ``register(subparsers)``, which adds its parser and sets
``run=<function(args) -> int>``. Errors a person can act on are printed as one line on stderr;
the exit code is non-zero when anything failed.
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = (
    "posestudio.commands.fetch_model",
    "posestudio.commands.image",
    "posestudio.commands.track_mot",
    "posestudio.commands.process",
    "posestudio.commands.serve",
    "posestudio.commands.worker",
    "posestudio.commands.backends",
    "posestudio.commands.live",
    "posestudio.commands.models",
    "posestudio.commands.multiview",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posestudio",
        description="Multi-person pose estimation and tracking for images and videos.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a command whose module is not part of this build
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("posestudio: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""``posestudio models``: every pose model, whether it is installed here, where its files are or
should go, its skeleton and its licence note (``--json`` for scripts)."""
from __future__ import annotations

import argparse
import json
import sys

import config
from pipeline.model_files import all_model_files, runtime_missing


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models", help="list the pose models: installed or not, where their files go",
        description="List every pose model Pose Studio knows: installed here or not, where its files are "
        "(or where to put them), its skeleton and its licence note.")
    parser.add_argument("--json", action="store_true", help="one JSON document instead of text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = config.Settings.from_env()
    rows = []
    for files in all_model_files(settings.model_path):
        row = files.to_dict()
        needs = runtime_missing(files.entry.name)
        if needs:
            row["installed"], row["missing_package"] = False, needs
        rows.append(row)
    if args.json:
        json.dump({"models": rows}, sys.stdout, indent=2)
        print()
        return 0
    for row in rows:
        state = "installed" if row["installed"] else "not installed"
        print(f"{row['name']:<24} {state:<14} {row['label']}; skeleton {row['skeleton']} "
              f"({row['parts']} parts, {'many people' if row['people'] == 'many' else 'one person'} a frame)")
        if row["installed"]:
            print(f"{'':<24} files: {', '.join(row['files'])}")
        else:
            if row["missing"]:
                print(f"{'':<24} missing in {row['folder']}: {', '.join(row['missing'])}; {row['install']}")
            if row.get("missing_package"):
                print(f"{'':<24} {row['missing_package']}")
        print(f"{'':<24} licence: {row['licence']}")
    return 0

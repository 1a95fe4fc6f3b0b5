"""``posestudio worker``: one Celery worker for video jobs, under a node name of its own.

Every worker process gets a new node name, ``posestudio-<8 hex digits>@<host>``. The job store
records which node runs a job, and a node name is declared dead only by whoever saw that very
process exit (``posestudio serve`` for the worker it runs, see ``workers.recovery``). With one
fixed name per host, a second worker's start-up took the live one's running jobs for its dead
predecessor's and ran them again from frame 0.

The Celery command line is built here only (:func:`worker_command`); ``posestudio serve`` and
the benchmarks use it too.
"""
from __future__ import annotations

import argparse
import os
import secrets
import socket
import sys

import config
from config import Settings
from posestudio.inference import add_backend_flags, hand_to_workers


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "worker", help="run a Celery worker for video jobs (under a new, unique node name)",
        description="Run the Celery worker that processes video jobs, named "
        "posestudio-<8 hex digits>@<host> (printed first), so workers never take each other's "
        "running jobs for orphans. Configuration comes from the environment (see docs/configuration.md).")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="video jobs processed at once, per GPU with --gpus (default: $WORKER_CONCURRENCY, else 1)")
    add_backend_flags(parser, env_default=True)
    parser.add_argument("--gpus", metavar="all|I,J,...", default=None,
                        help="one worker per GPU, each seeing only its own (CUDA_VISIBLE_DEVICES), "
                        "named posestudio-gpu<I>-<8 hex>@<host>, restarted when it dies; "
                        "'all' = every GPU nvidia-smi lists")
    parser.set_defaults(run=run)


def new_node_name(kind: str | None = None) -> str:
    """A Celery node name no other worker process has: ``posestudio-<8 hex>@<host name>``, or
    ``posestudio-<kind>-<8 hex>@<host name>`` (``kind`` e.g. ``gpu1``, the worker of GPU 1).

    The host part is what Celery's ``%h`` would give (``socket.gethostname()``), spelled out so
    that the caller knows the exact name the job store will record."""
    prefix = f"posestudio-{kind}-" if kind else "posestudio-"
    return f"{prefix}{secrets.token_hex(4)}@{socket.gethostname()}"


def worker_command(concurrency: int, node_name: str) -> list[str]:
    """The ``celery worker`` command line (run it with ``cwd=config.ROOT``)."""
    return [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker",
            "--pool", "prefork", "--concurrency", str(concurrency), "--hostname", node_name,
            "--loglevel", "INFO"]


def run(args: argparse.Namespace) -> int:
    unavailable = hand_to_workers("posestudio worker", args)  # checked before anything is made
    if unavailable is not None:
        return unavailable
    concurrency = args.concurrency or Settings.from_env().worker_concurrency
    if concurrency < 1:
        print(f"posestudio worker: --concurrency must be at least 1, got {concurrency}", file=sys.stderr)
        return 2
    if args.gpus is not None:
        from posestudio.gpu_workers import run_per_gpu
        return run_per_gpu(Settings.from_env(), concurrency, args.gpus)
    node_name = new_node_name()
    print(f"posestudio worker: node name {node_name}", flush=True)
    command = worker_command(concurrency, node_name)
    os.chdir(config.ROOT)
    os.execv(command[0], command)  # the worker is this process: signals reach Celery directly

"""``posestudio live``: the live server (:mod:`live.server`), which answers webcam frames with
tracked people for the web app's /live page. ``posestudio serve`` starts it on LIVE_URL."""
from __future__ import annotations

import argparse
import signal
import sys

from config import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "live", help="run the live server (webcam frames in, tracked people out) for the /live page",
        description="Load the live models once and answer live frames over HTTP (LIVE_URL's host and "
        "port unless given). Configuration comes from the environment (LIVE_*; see "
        "docs/configuration.md and docs/live.md).")
    parser.add_argument("--host", default=None, help="address to listen on (default: LIVE_URL's host)")
    parser.add_argument("--port", type=int, default=None, help="port to listen on (default: LIVE_URL's port)")
    parser.set_defaults(run=run)


def live_command(host: str, port: int) -> list[str]:
    """The command line of the live server (run it with ``cwd=config.ROOT``)."""
    return [sys.executable, "-m", "posestudio.cli", "live", "--host", host, "--port", str(port)]


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    from live.models import load_live_estimator
    from live.server import LiveServer
    from pose import BackendUnavailableError, PoseError

    settings = Settings.from_env()
    live = settings.live
    host, port = live.host_port
    host, port = args.host or host, args.port if args.port is not None else port
    if live.sessions < 1:
        print("posestudio live: LIVE_SESSIONS is 0 (live pose is off); nothing to serve", file=sys.stderr)
        return 2
    estimators = {}
    for name in live.models:
        try:
            estimators[name] = load_live_estimator(name, settings.model_path, threads=live.threads,
                                                   net_height=live.net_height, backend=settings.inference_backend)
        except BackendUnavailableError as exc:  # e.g. mediapipe not installed: serve the others
            print(f"posestudio live: leaving out {name}: {exc}", file=sys.stderr)
        except (PoseError, ValueError) as exc:
            print(f"posestudio live: {exc}", file=sys.stderr)
            return 1
    if not estimators:
        print("posestudio live: none of LIVE_MODELS can be loaded here; nothing to serve", file=sys.stderr)
        return 1
    try:
        server = LiveServer((host, port), live, estimators)
    except OSError as exc:
        print(f"posestudio live: cannot listen on {host}:{port} ({exc.strerror or exc}); "
              "set LIVE_URL to a free port", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _interrupt)  # serve's stop, docker's stop: as Ctrl-C
    print(f"posestudio live: serving {', '.join(estimators)} on http://{host}:{port} "
          f"({live.sessions} sessions, {live.threads} inference thread(s))", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0

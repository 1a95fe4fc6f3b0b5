"""``posestudio serve``: the web app (gunicorn, gthread workers) and one Celery worker, together.

Both run as child processes, each in its own process group. Ctrl-C (SIGINT) or SIGTERM stops
them: the web server and the worker get SIGTERM (graceful), then, if they are still there after
a grace period, the worker gets SIGQUIT (cold shutdown: a running job is recovered by the next
worker start) and finally whatever is left of either group gets SIGKILL. No orphans stay behind.
With neither ``REDIS_URL`` nor ``CELERY_BROKER_URL`` set, the worker uses the embedded
filesystem broker under the instance folder, so nothing else has to run.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

import config
from config import Settings
from posestudio.commands.worker import new_node_name, worker_command

GRACE_S = 10.0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve", help="start the web app and a worker (Ctrl-C stops both)",
        description="Start the web app with gunicorn and one Celery worker. Configuration comes "
        "from the environment (see the README); the queue is Redis when REDIS_URL is set, "
        "otherwise an embedded filesystem queue under the instance folder.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: %(default)s; 0.0.0.0 for all)")
    parser.add_argument("--port", type=int, default=None,
                        help="port to listen on (default: $PORT, else 5000)")
    parser.add_argument("--workers", type=int, default=2,
                        help="web server processes (gunicorn workers; default: %(default)s)")
    parser.add_argument("--threads", type=int, default=8,
                        help="threads per web server process (default: %(default)s)")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="video jobs processed at once (default: $WORKER_CONCURRENCY, else 1)")
    parser.set_defaults(run=run)


def web_command(host: str, port: int, *, workers: int, threads: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--worker-class", "gthread",
            "--workers", str(workers), "--threads", str(threads), "--bind", f"{host}:{port}",
            "--graceful-timeout", str(int(GRACE_S)), "--access-logfile", "-",
            *_no_control_socket(), "app:create_app()"]


def _no_control_socket() -> list[str]:
    """gunicorn >= 25.1 opens a control socket at one path in $HOME shared by every instance;
    we do not use it, and two instances must not fight over it."""
    from importlib.metadata import version

    major, minor = (int(part) for part in version("gunicorn").split(".")[:2])
    return ["--no-control-socket"] if (major, minor) >= (25, 1) else []


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    port = args.port if args.port is not None else settings.port
    _prepare(settings)
    if not _port_free(args.host, port):
        print(f"posestudio serve: port {port} on {args.host} is in use; stop what uses it or "
              "pick another with --port (or PORT)", file=sys.stderr)
        return 1
    children = {
        "worker": _spawn(worker_command(args.concurrency or settings.worker_concurrency, new_node_name())),
        "web": _spawn(web_command(args.host, port, workers=args.workers, threads=args.threads)),
    }
    stop = _StopFlag()
    try:
        if not _wait_until_listening(args.host, port, children, stop):
            return _shutdown(children, failed=not stop)
        shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        print(f"Pose Studio is running at http://{shown}:{port}  (Ctrl-C stops it)", flush=True)
        while not stop and all(p.poll() is None for p in children.values()):
            time.sleep(0.3)
        return _shutdown(children, failed=not stop)
    finally:
        stop.restore()
        _kill_groups(children)


def _prepare(settings: Settings) -> None:
    """Folders, the persistent secret and the job table, before two processes race for them;
    all private to this user (umask 0o077, which the web server and the worker inherit)."""
    from jobs import JobStore
    from jobs.paths import make_service_folders

    make_service_folders(settings)
    JobStore(settings.effective_database_url).close()


def _spawn(command: list[str]) -> subprocess.Popen:
    # Own process group: a terminal's Ctrl-C reaches only us, and we stop the children in order.
    return subprocess.Popen(command, cwd=config.ROOT, start_new_session=True)


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _wait_until_listening(host: str, port: int, children: dict, stop: "_StopFlag",
                          timeout_s: float = 60.0) -> bool:
    target = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not stop:
        if any(p.poll() is not None for p in children.values()):
            return False
        try:
            socket.create_connection((target, port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


def _shutdown(children: dict[str, subprocess.Popen], *, failed: bool) -> int:
    """Stop both children (see the module docstring); 0 after a requested stop, else 1."""
    for name, proc in children.items():
        if failed and proc.poll() is not None:
            print(f"posestudio serve: the {name} process exited with code {proc.returncode}; "
                  "stopping", file=sys.stderr)
        _signal(proc, signal.SIGTERM)
    _wait_all(children.values(), GRACE_S)
    _signal(children["worker"], signal.SIGQUIT)
    _wait_all(children.values(), 5.0)
    _kill_groups(children)
    return 1 if failed else 0


def _signal(proc: subprocess.Popen, signum: int) -> None:
    if proc.poll() is None:
        try:
            proc.send_signal(signum)
        except ProcessLookupError:
            pass


def _wait_all(procs, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass


def _kill_groups(children: dict[str, subprocess.Popen]) -> None:
    """SIGKILL anything left in the children's process groups (pool processes included)."""
    for proc in children.values():
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


class _StopFlag:
    """True once SIGINT or SIGTERM arrived; installs the handlers and restores the old ones."""

    def __init__(self) -> None:
        self._stopped = False
        self._old = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}

    def _handle(self, signum: int, _frame: object) -> None:
        self._stopped = True

    def __bool__(self) -> bool:
        return self._stopped

    def restore(self) -> None:
        for signum, handler in self._old.items():
            signal.signal(signum, handler)

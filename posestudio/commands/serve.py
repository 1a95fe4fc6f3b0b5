"""``posestudio serve``: the web app (gunicorn, gthread workers), one Celery worker and the live
server (``posestudio live``, unless LIVE_SESSIONS=0), together.

Both run as child processes, each in its own process group. The worker is supervised
(:mod:`posestudio.worker_supervisor`): when it dies it is restarted with a back-off while the
web server keeps serving, and the jobs it was running are requeued. The web server dying is
fatal: serve stops the worker (and the live server) and exits with 1 (gunicorn's master already replaces its own
worker processes; a master that died needs a person or an outer supervisor such as systemd or
a container's restart policy). The live server is supervised the same way as the worker
(:mod:`posestudio.live_supervisor`): restarted with a back-off, the web app serving meanwhile.

Ctrl-C (SIGINT) or SIGTERM stops both: the web server and the worker get SIGTERM (graceful),
then, if they are still there after a grace period, the worker gets SIGQUIT (cold shutdown) and
finally whatever is left of either group gets SIGKILL. No orphans stay behind, and a job the
worker was still running is queued again for the next start. With neither ``REDIS_URL`` nor
``CELERY_BROKER_URL`` set, the worker uses the embedded filesystem broker under the instance
folder, so nothing else has to run.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time

from config import Settings
from posestudio import process_groups
from posestudio.inference import add_backend_flags, hand_to_workers
from posestudio.live_supervisor import LiveSupervisor
from posestudio.worker_supervisor import WorkerSupervisor

GRACE_S = 10.0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve", help="start the web app, a worker and the live server (Ctrl-C stops them)",
        description="Start the web app with gunicorn and one Celery worker; a worker that dies is "
        "restarted (its jobs are queued again) while the web app keeps serving. Configuration "
        "comes from the environment (see docs/configuration.md); the queue is Redis when REDIS_URL is set, "
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
    add_backend_flags(parser, env_default=True)
    parser.set_defaults(run=run)


def web_command(host: str, port: int, *, workers: int, threads: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--worker-class", "gthread",
            "--workers", str(workers), "--threads", str(threads), "--bind", f"{host}:{port}",
            "--graceful-timeout", str(int(GRACE_S)), "--access-logfile", "-",
            *_no_control_socket(), "app:create_app()"]


#: Bind addresses that only this machine can reach.
LOOPBACK_BINDS = frozenset({"127.0.0.1", "localhost", "::1"})


def web_environment(host: str, env: dict[str, str]) -> tuple[dict[str, str], str | None]:
    """The web server's environment for binding ``host``, and a warning to print (or None): with
    ALLOWED_HOSTS unset, a loopback bind answers loopback names only (web.hosts); any other bind
    answers every Host, which serve says, as the operator should name the server's hosts."""
    if (env.get("ALLOWED_HOSTS") or "").strip():
        return env, None
    if host in LOOPBACK_BINDS:
        from web.hosts import LOOPBACK_HOSTS

        return {**env, "ALLOWED_HOSTS": ",".join(LOOPBACK_HOSTS)}, None
    return env, (f"ALLOWED_HOSTS is not set, so the web app on {host} answers requests for any host name; "
                 "set it to the names people use to reach it (docs/hosts.md)")


def _no_control_socket() -> list[str]:
    """gunicorn >= 25.1 opens a control socket at one path in $HOME shared by every instance;
    we do not use it, and two instances must not fight over it."""
    from importlib.metadata import version

    major, minor = (int(part) for part in version("gunicorn").split(".")[:2])
    return ["--no-control-socket"] if (major, minor) >= (25, 1) else []


def run(args: argparse.Namespace) -> int:
    unavailable = hand_to_workers("posestudio serve", args)  # the worker's backend and device, checked first
    if unavailable is not None:
        return unavailable
    settings = Settings.from_env()
    port = args.port if args.port is not None else settings.port
    _prepare(settings)
    if not _port_free(args.host, port):
        print(f"posestudio serve: port {port} on {args.host} is in use; stop what uses it or "
              "pick another with --port (or PORT)", file=sys.stderr)
        return 1
    if settings.live.enabled and not _port_free(*settings.live.host_port):
        host, live_port = settings.live.host_port
        print(f"posestudio serve: the live server's port {live_port} on {host} (LIVE_URL) is in use; "
              "set LIVE_URL to a free port, or LIVE_SESSIONS=0 to run without live pose", file=sys.stderr)
        return 1
    stop = process_groups.StopFlag()  # before the children exist: a Ctrl-C from here on stops them in order
    worker = WorkerSupervisor(settings, args.concurrency or settings.worker_concurrency)
    live = LiveSupervisor(settings.live) if settings.live.enabled else None
    web = None
    try:
        worker.start()
        if live is not None:
            live.start()
        web_env, warning = web_environment(args.host, dict(os.environ))
        if warning:
            print(f"posestudio serve: {warning}", file=sys.stderr, flush=True)
        web = process_groups.spawn(web_command(args.host, port, workers=args.workers,
                                               threads=args.threads), env=web_env)
        if _wait_until_listening(args.host, port, web, worker, stop):
            shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
            print(f"Pose Studio is running at http://{shown}:{port}  (Ctrl-C stops it)", flush=True)
            while not stop and web.poll() is None:
                worker.tick()
                if live is not None:
                    live.tick()
                time.sleep(0.3)
        return _shutdown(web, worker, live, failed=not stop)
    finally:
        if web is not None:
            process_groups.kill_group(web)
        if live is not None:
            live.stop()
        worker.stopped()
        stop.restore()


def _prepare(settings: Settings) -> None:
    """Folders, the persistent secret and the job table, before two processes race for them;
    all private to this user (umask 0o077, which the web server and the worker inherit)."""
    from jobs import JobStore, database_unavailable
    from jobs.paths import make_service_folders
    from jobs.store import first_line

    make_service_folders(settings)
    store = JobStore(settings.effective_database_url)
    try:
        store.ensure_schema()
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        # Start all the same: the pages say so (503) and everything resumes once it answers.
        print(f"posestudio serve: the job database does not answer ({first_line(exc)}); starting "
              "anyway: pages and the API answer 503 until it does, and the worker waits for it",
              file=sys.stderr, flush=True)
    finally:
        store.close()


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _wait_until_listening(host: str, port: int, web: subprocess.Popen, worker: WorkerSupervisor,
                          stop: process_groups.StopFlag, timeout_s: float = 60.0) -> bool:
    target = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not stop:
        if web.poll() is not None:
            return False
        worker.tick()
        try:
            socket.create_connection((target, port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


def _shutdown(web: subprocess.Popen, worker: WorkerSupervisor, live: LiveSupervisor | None, *,
              failed: bool) -> int:
    """Stop the children (see the module docstring); 0 after a requested stop, else 1."""
    if failed and web.poll() is not None:
        print(f"posestudio serve: the web server exited with code {web.returncode}; stopping",
              file=sys.stderr)
    running = [proc for proc in (web, worker.proc, live.proc if live else None) if proc is not None]
    process_groups.stop_all(running, GRACE_S, cold=[worker.proc] if worker.proc is not None else [])
    return 1 if failed else 0  # the caller kills what is left of both groups

"""Web abuse benchmark: ``GET /`` latency while uploads trickle and while a job runs, as ratios
to the idle latency measured in the same run. Prints numbers; asserts nothing.

Runs the real ``posestudio serve`` (gunicorn gthread + a Celery worker on the embedded queue) on
127.0.0.1, an ephemeral port, with a temp instance folder; every request is loopback traffic and
every phase is bounded, so it stops by itself (and stops serve, and removes the folder).

1. idle: ``--requests`` sequential ``GET /``, each on a new connection (as a new visitor).
2. trickling uploads: ``--tricklers`` connections each declare a 100 MB upload and send one byte a
   second (issue 8's attack), then the same GETs. Reports how the server answered the uploads
   (503 at once when the upload slots are full; 408 once a slotted one passes the read timeout).
3. a job running: a real video (``--video``, from ../shared/data/videos) is uploaded and
   processed at the default options; the GETs run once it has started on frames.

A GET that gets no answer within ``--timeout`` seconds counts as a timeout and is left out of
the percentiles (their count is printed).

    .venv/bin/python bench/abuse_web.py [--requests 100] [--tricklers 16] [--video vtest.avi]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VIDEOS = ROOT.parent / "shared" / "data" / "videos"
DECLARED = 100 * 1024**2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Serve:
    """``posestudio serve`` in a temp folder (``extra_env`` on top; the live server on a free
    port); its output goes to ``serve.log`` there."""

    def __init__(self, root: Path, **extra_env: str):
        self.root, self.port = root, free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL")}
        env.update(POSESTUDIO_INSTANCE_DIR=str(root / "instance"), POSESTUDIO_UPLOADS_DIR=str(root / "uploads"),
                   POSESTUDIO_OUTPUTS_DIR=str(root / "outputs"), PYTHONUNBUFFERED="1", SECRET_KEY="bench",
                   LIVE_URL=f"http://127.0.0.1:{free_port()}", **extra_env)
        self.log_path = root / "serve.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "posestudio.cli", "serve", "--port", str(self.port)],
                                         cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            text = self.log_path.read_text(errors="replace")
            if "running at http://" in text and " ready." in text:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"posestudio serve did not start; see {self.log_path}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def get_page(port: int, timeout_s: float) -> float | None:
    """Seconds until ``GET /`` on a new connection was answered in full; None on a timeout."""
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        response.read()
        return time.perf_counter() - start if response.status == 200 else None
    except OSError:
        return None
    finally:
        conn.close()


def latency_phase(port: int, requests: int, timeout_s: float) -> tuple[list[float], int]:
    """(latencies of the answered GETs, number of timeouts)."""
    times = [get_page(port, timeout_s) for _ in range(requests)]
    return [t for t in times if t is not None], sum(t is None for t in times)


def percentiles(latencies: list[float]) -> tuple[float, float]:
    """p50 and p95 in ms."""
    ordered = sorted(latencies)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000


class Tricklers:
    """``count`` uploads that declare 100 MB and send a byte a second, from one thread, for at
    most ``max_s``; ``answers`` collects the status line each got from the server."""

    def __init__(self, port: int, count: int, *, max_s: float):
        boundary = uuid.uuid4().hex
        part = (f'--{boundary}\r\nContent-Disposition: form-data; name="video"; filename="slow.mp4"\r\n'
                "Content-Type: video/mp4\r\n\r\n").encode()
        head = (f"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                f"Content-Length: {len(part) + DECLARED}\r\n\r\n").encode() + part
        self.socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]
        for sock in self.socks:
            sock.sendall(head)
        self.answers: dict[int, str] = {}
        self.seconds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(max_s,), daemon=True)
        self._thread.start()

    def _run(self, max_s: float) -> None:
        deadline = time.monotonic() + max_s
        while not self._stop.is_set() and time.monotonic() < deadline:
            for i, sock in enumerate(self.socks):
                if i in self.answers:
                    continue
                if select.select([sock], [], [], 0)[0]:
                    try:
                        data = sock.recv(4096)
                    except OSError:
                        data = b""
                    self.answers[i] = data.split(b"\r\n", 1)[0].decode(errors="replace") or "(closed)"
                    continue
                try:
                    sock.send(b"x")
                except OSError:
                    self.answers[i] = "(reset)"
            self.seconds += 1
            self._stop.wait(1.0)

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for line in self.answers.values():
            counts[line] = counts.get(line, 0) + 1
        counts["still sending"] = len(self.socks) - len(self.answers)
        return ", ".join(f"{n} {what}" for what, n in sorted(counts.items()) if n)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for sock in self.socks:
            sock.close()


def upload_video(port: int, video: Path) -> str:
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="video"; filename="{video.name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode() + video.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("POST", "/api/jobs", body=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    response = conn.getresponse()
    payload = json.loads(response.read())
    conn.close()
    if response.status != 202:
        raise RuntimeError(f"upload refused: {response.status} {payload}")
    return payload["id"]


def job_state(port: int, job_id: str) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", f"/api/jobs/{job_id}")
    state = json.loads(conn.getresponse().read())
    conn.close()
    return state


def wait_running(port: int, job_id: str, timeout_s: float = 180.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = job_state(port, job_id)
        if state["state"] == "running" and (state["frames_done"] or 0) > 0:
            return state
        if state["state"] not in ("queued", "running"):
            raise RuntimeError(f"job ended before it was measured: {state}")
        time.sleep(0.5)
    raise TimeoutError("the job did not start on frames")


def measure(*, requests: int, tricklers: int, video: Path, timeout_s: float) -> dict[str, dict]:
    """Runs the three phases against a fresh ``posestudio serve``; returns per phase
    ``{"p50_ms", "p95_ms", "answered", "timeouts", "note"}``."""
    root = Path(tempfile.mkdtemp(prefix="posestudio-bench-abuse-web-"))
    serve = Serve(root)
    results: dict[str, dict] = {}

    def record(name: str, note: str = "") -> None:
        latencies, timeouts = latency_phase(serve.port, requests, timeout_s)
        p50, p95 = percentiles(latencies) if latencies else (float("nan"), float("nan"))
        results[name] = {"p50_ms": p50, "p95_ms": p95, "answered": len(latencies), "timeouts": timeouts, "note": note}

    try:
        serve.wait_ready()
        for _ in range(20):  # warm-up: both web processes load templates, open the database
            get_page(serve.port, timeout_s)
        record("idle")
        attack = Tricklers(serve.port, tricklers, max_s=requests * timeout_s + 30)
        try:
            while attack.seconds < 3:  # every upload is in, and trickling
                time.sleep(0.2)
            record(f"{tricklers} uploads trickling")
            results[f"{tricklers} uploads trickling"]["note"] = f"the uploads got: {attack.summary()}"
        finally:
            attack.close()
        job_id = upload_video(serve.port, video)
        state = wait_running(serve.port, job_id)
        record("a job running")
        state = job_state(serve.port, job_id)
        results["a job running"]["note"] = (f"{video.name}: {state['state']}, {state['progress'] * 100:.0f}% "
                                            f"done, {state['fps'] or 0:.1f} fps")
        conn = http.client.HTTPConnection("127.0.0.1", serve.port, timeout=30)
        conn.request("POST", f"/api/jobs/{job_id}/cancel")
        conn.getresponse().read()
        conn.close()
    finally:
        serve.stop()
        shutil.rmtree(root, ignore_errors=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100, help="GETs per phase (default: %(default)s)")
    parser.add_argument("--tricklers", type=int, default=16, help="trickling uploads (default: %(default)s)")
    parser.add_argument("--video", default="vtest.avi", help="clip in ../shared/data/videos (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds a GET may take (default: %(default)s)")
    args = parser.parse_args()
    video = VIDEOS / args.video
    if not video.is_file():
        print(f"abuse_web: {video} not found", file=sys.stderr)
        return 1
    results = measure(requests=args.requests, tricklers=args.tricklers, video=video, timeout_s=args.timeout)
    base = results["idle"]
    print(f"GET / on a new connection, {args.requests} per phase, posestudio serve (2 x 8 threads):")
    for name, r in results.items():
        ratio = (f"x{r['p50_ms'] / base['p50_ms']:.2f} / x{r['p95_ms'] / base['p95_ms']:.2f} of idle"
                 if name != "idle" else "baseline")
        print(f"  {name:<22} p50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms  ({ratio}); "
              f"{r['answered']} answered, {r['timeouts']} timed out (>{args.timeout:g} s)"
              + (f"; {r['note']}" if r["note"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

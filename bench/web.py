"""Web benchmark: upload throughput and web-process memory for a huge upload, and page latency
under 20 concurrent clients while a real job runs. Prints numbers; asserts nothing.

Runs the production web server (gunicorn gthread, the command ``posestudio serve`` uses) and,
for the latency part, one real Celery worker on the embedded broker, all in a temp folder.

1. Upload: a generated body of ``--upload-mb`` MiB streamed from this process over loopback,
   twice: (a) junk named .mp4 (stored, then refused by content: 422) and (b) a real video
   followed by padding (stored, accepted: 202, a queued job). Reports MB/s and the web worker
   processes' VmRSS before and VmHWM after (from /proc/<pid>/status): flat means the upload
   never sat in memory.
2. Latency: ``--clients`` threads, keep-alive connections, GETs of the upload page, a job page,
   the job's JSON, "My jobs" and the stylesheet; first with nothing running (baseline), then
   while the worker processes a real video. Each phase stops after ``--requests`` requests or
   ``--seconds`` seconds. Reports p50/p95 per phase and the ratio to the baseline. Meanwhile a
   scraper GETs ``/metrics`` every second (a Prometheus at 15x its usual rate), so the figures
   include the metrics' cost; its own p50/p95 are reported too.

    .venv/bin/python bench/web.py [--upload-mb 1024] [--clients 20] [--requests 2000] [--seconds 30]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
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
sys.path.insert(0, str(ROOT))

from posestudio.commands.serve import web_command  # noqa: E402
from posestudio.commands.worker import new_node_name, worker_command  # noqa: E402

VIDEOS = ROOT.parent / "shared" / "data" / "videos"
CHUNK = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM of a process in KiB."""
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def wait_listening(port: int, proc: subprocess.Popen, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("web server exited early")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError("web server did not start")


def stream_upload(port: int, *, prefix: bytes, total_bytes: int, name: str) -> tuple[int, dict, float]:
    """POST /api/jobs with a multipart body of ``total_bytes`` generated on the fly."""
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"video\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    block = os.urandom(CHUNK)

    def body():
        yield head + prefix
        left = total_bytes - len(prefix)
        while left > 0:
            piece = block[: min(CHUNK, left)]
            left -= len(piece)
            yield piece
        yield tail

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.perf_counter()
    conn.putrequest("POST", "/api/jobs")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(len(head) + total_bytes + len(tail)))
    conn.endheaders()
    for piece in body():
        conn.send(piece)
    response = conn.getresponse()
    payload = json.loads(response.read() or b"{}")
    elapsed = time.perf_counter() - start
    conn.close()
    return response.status, payload, elapsed


def measure_upload(port: int, web_pids: list[int], size_mb: int):
    """Yields the job id (or None) of each measured upload."""
    total = size_mb * CHUNK
    video = (VIDEOS / "mmpose_demo.mp4").read_bytes()
    # Warm-up: the first requests of a worker import and initialise things (FFmpeg, templates,
    # the database); a few small uploads reach every worker so that is not counted below.
    for _ in range(2 * len(web_pids)):
        stream_upload(port, prefix=b"", total_bytes=CHUNK, name="warmup.mp4")
        stream_upload(port, prefix=video, total_bytes=len(video), name="warmup.mp4")
    for label, prefix, name in (("junk named .mp4 (refused by content)", b"", "junk.mp4"),
                                ("real video + padding (accepted)", video, "padded.mp4")):
        before = {pid: proc_status(pid) for pid in web_pids}
        status, payload, elapsed = stream_upload(port, prefix=prefix, total_bytes=total, name=name)
        after = {pid: proc_status(pid) for pid in web_pids}
        growth = {pid: (after[pid]["VmHWM"] - before[pid]["VmRSS"]) / 1024 for pid in web_pids}
        pid = max(growth, key=growth.get)
        print(f"upload {size_mb} MiB, {label}: HTTP {status} in {elapsed:.2f} s = "
              f"{size_mb / elapsed:.0f} MiB/s; web worker {pid}: RSS before "
              f"{before[pid]['VmRSS'] / 1024:.0f} MiB, peak (VmHWM) after {after[pid]['VmHWM'] / 1024:.0f} MiB, "
              f"growth {growth[pid]:+.1f} MiB ({100 * growth[pid] / size_mb:.2f}% of the upload)")
        if status >= 400:
            print(f"  server said: {payload.get('error')}")
        yield payload.get("id")


def latency_phase(port: int, paths: list[str], *, clients: int, max_requests: int,
                  max_seconds: float) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(max_requests))
    deadline = time.monotonic() + max_seconds
    failures = []

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < deadline:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            path = paths[(n + index) % len(paths)]
            start = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            took = time.perf_counter() - start
            if response.status != 200:
                failures.append((path, response.status))
            with lock:
                latencies.append(took)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        print(f"  {len(failures)} non-200 answers, e.g. {failures[:3]}")
    return latencies


def summary(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return p50 * 1000, p95 * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upload-mb", type=int, default=1024)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--web-workers", type=int, default=2)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="posestudio-bench-web-"))
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL")}
    env.update(POSESTUDIO_INSTANCE_DIR=str(root / "instance"), POSESTUDIO_UPLOADS_DIR=str(root / "uploads"),
               POSESTUDIO_OUTPUTS_DIR=str(root / "outputs"), SECRET_KEY="bench",
               MAX_UPLOAD_MB=str(args.upload_mb + 16))
    port = free_port()
    log = open(root / "web.log", "wb")
    web = subprocess.Popen(web_command("127.0.0.1", port, workers=args.web_workers, threads=8),
                           cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    worker = None
    try:
        wait_listening(port, web)
        time.sleep(1.0)
        web_pids = children(web.pid) or [web.pid]
        print(f"web: gunicorn gthread, {len(web_pids)} worker process(es) x 8 threads, port {port}")
        ids = list(measure_upload(port, web_pids, args.upload_mb))
        job_id = next((i for i in ids if i), None)

        # Latency: baseline with nothing running, then while a real job runs.
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", "/")
        conn.getresponse().read()
        paths = ["/", f"/jobs/{job_id}", f"/api/jobs/{job_id}", "/jobs", "/static/style.css"]
        scrapes: list[float] = []
        stop_scraping = threading.Event()
        threading.Thread(target=_scrape_metrics, args=(port, stop_scraping, scrapes), daemon=True).start()
        base = latency_phase(port, paths, clients=args.clients, max_requests=args.requests,
                             max_seconds=args.seconds)
        b50, b95 = summary(base)
        print(f"latency idle: {len(base)} GETs by {args.clients} clients: p50 {b50:.1f} ms, p95 {b95:.1f} ms")

        worker = subprocess.Popen(worker_command(1, new_node_name()), cwd=ROOT, env=env,
                                  stdout=open(root / "worker.log", "wb"), stderr=subprocess.STDOUT,
                                  start_new_session=True)
        running = _submit_running_job(port, root)
        busy = latency_phase(port, paths + [f"/api/jobs/{running}"], clients=args.clients,
                             max_requests=args.requests, max_seconds=args.seconds)
        r50, r95 = summary(busy)
        state = _get_json(port, f"/api/jobs/{running}")
        print(f"latency while a job runs ({state['state']}, {state['progress'] * 100:.0f}% done, "
              f"{state['fps'] or 0:.1f} fps): {len(busy)} GETs: p50 {r50:.1f} ms, p95 {r95:.1f} ms; "
              f"ratio to idle p50 x{r50 / b50:.2f}, p95 x{r95 / b95:.2f}")
        _post(port, f"/api/jobs/{running}/cancel")
        stop_scraping.set()
        m50, m95 = summary(scrapes)
        print(f"/metrics scraped every 1 s meanwhile: {len(scrapes)} scrapes, p50 {m50:.1f} ms, p95 {m95:.1f} ms")
    finally:
        for proc in (worker, web):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, 15)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, 9)
        shutil.rmtree(root, ignore_errors=True)
    return 0


def _scrape_metrics(port: int, stop: threading.Event, took: list[float]) -> None:
    while not stop.wait(1.0):
        start = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/metrics")
        response = conn.getresponse()
        response.read()
        conn.close()
        if response.status == 200:
            took.append(time.perf_counter() - start)


def _get_json(port: int, path: str) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    return json.loads(conn.getresponse().read())


def _post(port: int, path: str) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", path)
    conn.getresponse().read()


def _submit_running_job(port: int, root: Path) -> str:
    """Upload vtest.avi (795 frames at 368 px: minutes of work) and wait until it runs."""
    data = (VIDEOS / "vtest.avi").read_bytes()
    status, payload, _ = stream_upload(port, prefix=data, total_bytes=len(data), name="vtest.avi")
    assert status == 202, payload
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = _get_json(port, f"/api/jobs/{payload['id']}")
        if job["state"] == "running" and job["frames_done"] > 0:
            return payload["id"]
        if job["state"] not in ("queued", "running"):
            raise RuntimeError(f"job ended early: {job}")
        time.sleep(0.5)
    raise TimeoutError(f"job did not start running; see {root / 'worker.log'}")


if __name__ == "__main__":
    sys.exit(main())

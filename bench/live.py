"""Live pose benchmark: round-trip latency (p50/p95) and frames answered per second for one and for
three live sessions at once, while a video job runs, beside one session on an idle machine and
the job's own frames per second without and with the live sessions. Prints numbers; asserts nothing.

Runs the real ``posestudio serve`` (gunicorn + a Celery worker + the live server, LIVE_SESSIONS=3)
on 127.0.0.1 in a temp folder. Each live client does what the /live page does: it sends one JPEG
frame (real frames of ``--clip``, 360 px high, as the page sends a 640x360 camera) to
``/api/live/sessions/<id>/frames`` through the web app, waits for the answer, sends the next.

1. idle: one session, nothing else running (the baseline);
2. the job alone: a real video (``--video``) uploaded and processing; its frames/s;
3. one session while the job runs;
4. three sessions at once while the job runs.

Every phase lasts ``--seconds``. The machine may be shared with other work: the ratios within one
run are what to compare.

    .venv/bin/python bench/live.py [--seconds 15] [--video vtest.avi] [--clip sports2d_demo.mp4]
"""
from __future__ import annotations

import argparse
import http.client
import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from abuse_web import VIDEOS, Serve, job_state, percentiles, upload_video, wait_running  # noqa: E402

SESSIONS = 3


def clip_jpegs(video: Path, count: int, height: int = 360) -> list[bytes]:
    import av
    import cv2

    frames: list[bytes] = []
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            image = frame.to_ndarray(format="bgr24")
            width = round(image.shape[1] * height / image.shape[0] / 2) * 2
            small = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
            frames.append(cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
            if len(frames) == count:
                break
    return frames


class Client(threading.Thread):
    """One live session through the web app: frames one at a time for ``seconds``."""

    def __init__(self, port: int, frames: list[bytes], seconds: float, start_at: float):
        super().__init__(daemon=True)
        self.port, self.frames, self.seconds, self.start_at = port, frames, seconds, start_at
        self.latencies: list[float] = []
        self.people: list[int] = []
        self.server_ms: list[float] = []
        self.wait_ms: list[float] = []
        self.errors: list[str] = []

    def _call(self, conn: http.client.HTTPConnection, method: str, path: str, body: bytes, kind: str):
        conn.request(method, path, body=body, headers={"Content-Type": kind})
        response = conn.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else None)

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            status, body = self._call(conn, "POST", "/api/live/sessions", b"{}", "application/json")
            if status != 201:
                self.errors.append(f"session: {status} {body}")
                return
            session = body["id"]
            time.sleep(max(0.0, self.start_at - time.monotonic()))
            end, index = time.monotonic() + self.seconds, 0
            while time.monotonic() < end:
                sent = time.perf_counter()
                status, body = self._call(conn, "POST", f"/api/live/sessions/{session}/frames",
                                          self.frames[index % len(self.frames)], "image/jpeg")
                if status != 200:
                    self.errors.append(f"frame: {status} {body}")
                    continue
                self.latencies.append(time.perf_counter() - sent)
                self.people.append(len(body["people"]))
                self.server_ms.append(body["server_ms"])
                self.wait_ms.append(body["wait_ms"])
                index += 1
            self._call(conn, "DELETE", f"/api/live/sessions/{session}", b"", "application/json")
        except OSError as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()


def live_phase(port: int, frames: list[bytes], sessions: int, seconds: float) -> dict:
    start_at = time.monotonic() + 1.0  # every session opened before any frame is timed
    clients = [Client(port, frames, seconds, start_at) for _ in range(sessions)]
    for client in clients:
        client.start()
    for client in clients:
        client.join(seconds + 120)
    latencies = [t for c in clients for t in c.latencies]
    p50, p95 = percentiles(latencies) if latencies else (float("nan"), float("nan"))
    per_session = [len(c.latencies) / seconds for c in clients]
    waits = sorted(w for c in clients for w in c.wait_ms)
    return {"p50_ms": p50, "p95_ms": p95, "fps_each": per_session, "fps_total": sum(per_session),
            "people": sum(p for c in clients for p in c.people) / max(1, len(latencies)),
            "wait_p50_ms": waits[len(waits) // 2] if waits else float("nan"),
            "errors": [e for c in clients for e in c.errors]}


def job_fps(port: int, job_id: str, during: callable) -> tuple[float, object]:
    """The job's frames per second while ``during()`` runs (frames_done before and after)."""
    before, t0 = job_state(port, job_id)["frames_done"], time.monotonic()
    result = during()
    after, t1 = job_state(port, job_id), time.monotonic()
    if after["state"] != "running":
        return float("nan"), result
    return (after["frames_done"] - before) / (t1 - t0), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase (default: %(default)s)")
    parser.add_argument("--video", default="vtest.avi", help="the job's clip in ../shared/data/videos (default: %(default)s)")
    parser.add_argument("--clip", default="sports2d_demo.mp4", help="the camera's clip (default: %(default)s)")
    args = parser.parse_args()
    video, clip = VIDEOS / args.video, VIDEOS / args.clip
    for path in (video, clip):
        if not path.is_file():
            print(f"live: {path} not found", file=sys.stderr)
            return 1
    frames = clip_jpegs(clip, 90)
    root = Path(tempfile.mkdtemp(prefix="posestudio-bench-live-"))
    serve = Serve(root, LIVE_SESSIONS=str(SESSIONS))
    results: dict[str, dict] = {}
    try:
        serve.wait_ready()
        while "posestudio live: serving" not in serve.log_path.read_text(errors="replace"):
            time.sleep(0.2)
        live_phase(serve.port, frames[:5], 1, 3.0)  # warm-up: the network's input shape compiled
        results["1 session, idle"] = live_phase(serve.port, frames, 1, args.seconds)
        job_id = upload_video(serve.port, video)
        wait_running(serve.port, job_id)
        time.sleep(2.0)
        alone, _ = job_fps(serve.port, job_id, lambda: time.sleep(args.seconds))
        fps1, results["1 session, job running"] = job_fps(
            serve.port, job_id, lambda: live_phase(serve.port, frames, 1, args.seconds))
        fps3, results[f"{SESSIONS} sessions, job running"] = job_fps(
            serve.port, job_id, lambda: live_phase(serve.port, frames, SESSIONS, args.seconds))
        results["1 session, job running"]["job_fps"] = fps1
        results[f"{SESSIONS} sessions, job running"]["job_fps"] = fps3
        conn = http.client.HTTPConnection("127.0.0.1", serve.port, timeout=30)
        conn.request("POST", f"/api/jobs/{job_id}/cancel")
        conn.getresponse().read()
        conn.close()
    finally:
        serve.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(f"Live round trips through posestudio serve (web app -> live server, LIVE_THREADS default), "
          f"{args.seconds:g} s per phase, {args.clip} frames at 360 px high; the job: {args.video}")
    print(f"  the job alone: {alone:.1f} frames/s")
    base = results["1 session, idle"]
    for name, r in results.items():
        each = ", ".join(f"{f:.1f}" for f in r["fps_each"])
        job = f"; job {r['job_fps']:.1f} frames/s ({r['job_fps'] / alone:.2f} of alone)" if "job_fps" in r else ""
        print(f"  {name:<26} p50 {r['p50_ms']:6.0f} ms  p95 {r['p95_ms']:6.0f} ms "
              f"(x{r['p50_ms'] / base['p50_ms']:.2f} / x{r['p95_ms'] / base['p95_ms']:.2f} of idle)  "
              f"frames/s per session: {each} (total {r['fps_total']:.1f}); waiting for inference p50 "
              f"{r['wait_p50_ms']:.0f} ms; {r['people']:.1f} people a frame{job}"
              + (f"; errors: {r['errors'][:3]}" if r["errors"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The live server: a small HTTP server on LIVE_URL that answers live frames with tracked people.

Its own process (``posestudio live``; ``posestudio serve`` starts it beside the web app and the
worker), so live pose never shares a process, a thread or a queue with the video jobs. The
models are loaded once, at start. Only the web app talks to it (see ``web.live``):

========================================  ==================================================
``GET /status``                           models (with their skeletons), sessions open/limit
``POST /sessions`` ``{"model": name}``    201 a session; 503 when every slot is taken
``POST /sessions/<id>/frames`` (JPEG)     200 the people in it; 400/413 bad frame; 404 gone
``DELETE /sessions/<id>``                 204 closed (the slot is free at once)
========================================  ==================================================

A session created with an ``X-Live-Owner`` header (the web app sends the browser's owner id)
answers only requests with the same header; to others it is a 404 (:mod:`live.sessions`).

A frame's decode and inference run one frame at a time (a lock) on ``LiveSettings.threads``
CPU threads, whatever the number of sessions: sessions take turns, and the video jobs keep the
rest of the machine. A thread per connection reads frames and tracks people; a reaper closes
sessions that went silent (:mod:`live.sessions`); only an answered frame keeps a session alive.
Frames are never written anywhere.
"""
from __future__ import annotations

import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Mapping

from config import LiveSettings
from live import OWNER_HEADER
from live.frames import FrameError, decode_frame
from live.models import LiveEstimator, skeleton_json
from live.sessions import SessionBusy, SessionNotFound, SessionRegistry, SessionsFull

_FRAMES = re.compile(r"^/sessions/([0-9a-f]{32})/frames$")
_SESSION = re.compile(r"^/sessions/([0-9a-f]{32})$")
#: Seconds a connection may take to send its request (a frame is tens of KiB from the web app).
READ_TIMEOUT_S = 10
REAP_EVERY_S = 0.5
#: Retry-After of a 503 for a full house.
RETRY_AFTER_S = 5


def _say(message: str) -> None:
    print(f"posestudio live: {message}", file=sys.stderr, flush=True)


class LiveServer(ThreadingHTTPServer):
    """``LiveServer((host, port), settings, estimators)``; ``serve_forever()``, ``shutdown()``."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], settings: LiveSettings,
                 estimators: Mapping[str, LiveEstimator]) -> None:
        self.settings = settings
        self.estimators = dict(estimators)
        self.sessions = SessionRegistry(settings.sessions, settings.idle_timeout_s)
        self.inference_lock = threading.Lock()
        self._stop = threading.Event()
        super().__init__(address, _Handler)
        self._reaper = threading.Thread(target=self._reap, name="live-reaper", daemon=True)
        self._reaper.start()

    def _reap(self) -> None:
        while not self._stop.wait(REAP_EVERY_S):
            for session_id in self.sessions.expire_idle():
                _say(f"session {session_id[:8]} expired (no frame for {self.settings.idle_timeout_s:g} s)")

    def server_close(self) -> None:
        self._stop.set()
        super().server_close()

    def status(self) -> dict[str, Any]:
        open_, busy = self.sessions.counts()
        return {"status": "ok",
                "models": [{"name": name, "label": str(getattr(e, "label", name)), "skeleton": skeleton_json(e.skeleton)}
                           for name, e in self.estimators.items()],
                "default_model": next(iter(self.estimators)),
                "sessions": {"open": open_, "answering": busy, "limit": self.settings.sessions},
                "max_frame_bytes": self.settings.max_frame_bytes,
                "max_frame_pixels": self.settings.max_frame_pixels,
                "idle_timeout_s": self.settings.idle_timeout_s}

    def answer_frame(self, session_id: str, data: bytes, owner: str | None = None) -> dict[str, Any]:
        """Decode, estimate, track; raises SessionNotFound, SessionBusy, FrameError."""
        received = time.perf_counter()
        session = self.sessions.begin_frame(session_id, owner)
        answered = False
        try:
            estimator = self.estimators[session.model]
            with self.inference_lock:  # the decode too: LIVE_THREADS caps all of a frame's CPU work
                started = time.perf_counter()
                image = decode_frame(data, max_bytes=self.settings.max_frame_bytes,
                                     max_pixels=self.settings.max_frame_pixels)
                people = estimator.estimate(image, timestamp_ms=int((time.monotonic() - session.created) * 1000))
                inferred = time.perf_counter()
            ids = session.track(people, estimator.skeleton)
            answered = True
        finally:
            self.sessions.end_frame(session, answered=answered)
        return {
            "frame": session.frames,
            "width": int(image.shape[1]), "height": int(image.shape[0]),
            "people": [{"id": track_id, "score": round(float(p.score), 3),
                        "keypoints": [[round(float(x), 1), round(float(y), 1), round(float(c), 3)]
                                      for x, y, c in p.keypoints]}
                       for p, track_id in zip(people, ids)],
            "limbs": skeleton_json(estimator.skeleton)["limbs"],
            "wait_ms": round((started - received) * 1000, 1),
            "inference_ms": round((inferred - started) * 1000, 1),
            "server_ms": round((time.perf_counter() - received) * 1000, 1),
        }


class _Handler(BaseHTTPRequestHandler):
    server: LiveServer
    protocol_version = "HTTP/1.1"
    timeout = READ_TIMEOUT_S

    def log_message(self, format: str, *args: Any) -> None:  # one line per request is too many
        pass

    def _send(self, status: int, body: dict[str, Any] | None = None, headers: Mapping[str, str] = {}) -> None:
        data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        try:
            self.send_response(status)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client went away before its answer: nothing to clean up
            self.close_connection = True

    def _error(self, status: int, message: str, headers: Mapping[str, str] = {}) -> None:
        self._send(status, {"error": message, "status": status}, headers)

    def _body(self, limit: int) -> bytes | None:
        """The request body, or None after answering 411/413 (the connection is then closed)."""
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            self._error(411, "Send the frame with a Content-Length.")
            return None
        if int(length) > limit:
            self.close_connection = True
            self._error(413, f"The frame is {int(length):,} bytes, over the live limit of {limit:,} bytes "
                             "(LIVE_MAX_FRAME_KB); send smaller JPEG frames (480 px high is plenty).")
            return None
        return self.rfile.read(int(length))

    def do_GET(self) -> None:
        if self.path == "/status":
            self._send(200, self.server.status())
        else:
            self._error(404, "Not a live server address.")

    def do_POST(self) -> None:
        if self.path == "/sessions":
            self._create()
            return
        match = _FRAMES.match(self.path)
        if not match:
            self._error(404, "Not a live server address.")
            return
        data = self._body(self.server.settings.max_frame_bytes)
        if data is None:
            return
        try:
            self._send(200, self.server.answer_frame(match.group(1), data, self.headers.get(OWNER_HEADER)))
        except SessionNotFound:
            self._error(404, "This live session has ended (closed, or silent for longer than "
                             f"{self.server.settings.idle_timeout_s:g} s); start a new one.")
        except SessionBusy:
            self._error(409, "This session's previous frame is still being answered; send one frame at a time.")
        except FrameError as exc:
            self._error(exc.status, str(exc))
        except Exception as exc:  # a model failure: say so, keep serving (the session stays open)
            _say(f"frame of session {match.group(1)[:8]} failed: {type(exc).__name__}: {exc}")
            self._error(500, f"The live server could not process this frame ({type(exc).__name__}); "
                             "its log says why.")

    def _create(self) -> None:
        data = self._body(64 * 1024)
        if data is None:
            return
        try:
            asked = json.loads(data or b"{}")
            model = asked.get("model") or next(iter(self.server.estimators))
        except (ValueError, AttributeError):
            self._error(400, 'Send the session\'s options as JSON, e.g. {"model": "openpose"}.')
            return
        estimator = self.server.estimators.get(model) if isinstance(model, str) else None
        if estimator is None:
            self._error(400, f"The live server has no model {str(model)[:40]!r}; it has: {', '.join(self.server.estimators)}.")
            return
        try:
            skeleton = skeleton_json(estimator.skeleton)
            session = self.server.sessions.create(model, len(skeleton["parts"]), self.headers.get(OWNER_HEADER))
        except SessionsFull:
            limit = self.server.settings.sessions
            self._error(503, f"All {limit} live session{'s are' if limit != 1 else ' is'} in use (LIVE_SESSIONS); "
                             f"try again in a few seconds, when one ends.", {"Retry-After": str(RETRY_AFTER_S)})
            return
        _say(f"session {session.id[:8]} opened ({model})")
        self._send(201, {"id": session.id, "model": model, "skeleton": skeleton,
                         "idle_timeout_s": self.server.settings.idle_timeout_s,
                         "max_frame_bytes": self.server.settings.max_frame_bytes,
                         "max_frame_pixels": self.server.settings.max_frame_pixels})

    def do_DELETE(self) -> None:
        match = _SESSION.match(self.path)
        if not match:
            self._error(404, "Not a live server address.")
        elif self.server.sessions.close(match.group(1), self.headers.get(OWNER_HEADER)):
            _say(f"session {match.group(1)[:8]} closed")
            self._send(204)
        else:
            self._error(404, "This live session has ended already.")

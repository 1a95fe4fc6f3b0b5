"""Slow or stalled uploads cannot take the web server's threads away from its pages.

gunicorn's gthread worker gives each request one thread, and that thread reads the request body
from the socket only as the app asks for it (blocking). A client that declares a 100 MB body and
sends a byte a second holds its thread for years; sixteen of them held every thread of
``posestudio serve`` (2 processes x 8) and no page answered. :class:`SlowClientGuard`, a WSGI
middleware around the Flask app, sets two rules:

* **Upload slots.** A request whose body is over :data:`SMALL_BODY_BYTES` (or of unknown length)
  needs one of ``upload_slots`` per web process. When all are taken it is answered at once with
  503 and ``Retry-After``, its body unread and its connection closed, so the other threads stay
  free for pages and small form posts.
* **Read timeout.** Every body is read in steps of at most :data:`READ_STEP_BYTES`; a client that
  does not deliver a step within ``read_timeout_s`` (it stalled, or it sends slower than
  READ_STEP_BYTES / read_timeout_s) is cut off: a watchdog thread shuts the read side of its
  socket, the blocked read returns, and the request ends with a 408 naming the limit. The
  upload's partial file is removed as for any failed upload (``web.uploads``).

Both act where the server hands the app its client socket in the WSGI environ: gunicorn
(``gunicorn.socket``) and werkzeug's server (``werkzeug.socket``). Without one there is no
socket to cut and no server thread to keep free (Flask's test client, which also leaves
responses unclosed, and so would never give a slot back), and the guard stands aside.
"""
from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any, Callable, Iterable

from werkzeug.exceptions import RequestTimeout

from web import SECURITY_HEADERS

#: Bodies up to this size (form posts, admin actions) need no upload slot.
SMALL_BODY_BYTES = 64 * 1024
#: The unit of the read timeout: each step of this many bytes must arrive within it.
READ_STEP_BYTES = 64 * 1024
RETRY_AFTER_S = 10

StartResponse = Callable[..., Any]


class UploadTooSlow(RequestTimeout):
    def __init__(self, read_timeout_s: float) -> None:
        super().__init__(
            f"The upload stalled: less than {READ_STEP_BYTES // 1024} KiB of it arrived in "
            f"{read_timeout_s:g} s (UPLOAD_READ_TIMEOUT_S), so the server stopped waiting for it. "
            "Try again on a steadier connection.")


def _step_size(left: int | None) -> int:
    return READ_STEP_BYTES if left is None else min(left, READ_STEP_BYTES)


class _GuardedInput:
    """``wsgi.input`` read in steps the watchdog can time; :meth:`cut_off` ends a slow client."""

    def __init__(self, stream: Any, sock: socket.socket, read_timeout_s: float) -> None:
        self._stream, self._sock, self._timeout_s = stream, sock, read_timeout_s
        self.step_started: float | None = None  # monotonic time; None while no read is pending
        self.cut = False

    def cut_off(self) -> None:
        self.cut = True
        shut_read_side(self._sock)

    def _step(self, read: Callable[[int], bytes], size: int) -> bytes:
        if self.cut:
            raise UploadTooSlow(self._timeout_s)
        self.step_started = time.monotonic()
        try:
            data = read(size)
        except OSError:
            if self.cut:
                raise UploadTooSlow(self._timeout_s) from None
            raise
        finally:
            self.step_started = None
        if self.cut:
            raise UploadTooSlow(self._timeout_s)
        return data

    def read(self, size: int | None = -1) -> bytes:
        left = None if size is None or size < 0 else size
        parts = []
        while left is None or left > 0:
            chunk = self._step(self._stream.read, _step_size(left))
            if not chunk:
                break
            parts.append(chunk)
            if left is not None:
                left -= len(chunk)
        return b"".join(parts)

    def readline(self, size: int | None = -1) -> bytes:
        left = None if size is None or size < 0 else size
        parts = []
        while left is None or left > 0:
            chunk = self._step(self._stream.readline, _step_size(left))
            parts.append(chunk)
            if not chunk or chunk.endswith(b"\n"):
                break
            if left is not None:
                left -= len(chunk)
        return b"".join(parts)

    def readlines(self, hint: int = -1) -> list[bytes]:
        return list(iter(self.readline, b""))

    def __iter__(self):
        return iter(self.readline, b"")


class _Watchdog:
    """One daemon thread per process: cuts off every input whose pending step is overdue."""

    def __init__(self, read_timeout_s: float) -> None:
        self.read_timeout_s = read_timeout_s
        self._inputs: set[_GuardedInput] = set()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, guarded: _GuardedInput) -> None:
        with self._changed:
            self._inputs.add(guarded)
            if self._thread is None:  # started on first use: after gunicorn forked, not before
                self._thread = threading.Thread(target=self._run, name="slow-client-watchdog", daemon=True)
                self._thread.start()
            self._changed.notify()

    def forget(self, guarded: _GuardedInput) -> None:
        with self._changed:
            self._inputs.discard(guarded)

    def _run(self) -> None:
        tick_s = min(1.0, self.read_timeout_s / 4)
        while True:
            with self._changed:
                while not self._inputs:
                    self._changed.wait()
                inputs = list(self._inputs)
            now = time.monotonic()
            for guarded in inputs:
                started = guarded.step_started
                if started is not None and now - started > self.read_timeout_s and not guarded.cut:
                    guarded.cut_off()
            time.sleep(tick_s)


def shut_read_side(sock: socket.socket | None) -> None:
    """Wake a read blocked on ``sock`` (it returns b"") and make every later read return at once."""
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass


class _AfterClose:
    """A WSGI response iterable that runs ``after`` once the server closed it."""

    def __init__(self, result: Iterable[bytes], after: Callable[[], None]) -> None:
        self._result, self._after = result, after

    def __iter__(self):
        return iter(self._result)

    def close(self) -> None:
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()  # may read the rest of the body (web.uploads.drain_after)
        except UploadTooSlow:
            pass  # the client was cut off while that was read: nothing is left to do
        finally:
            self._after()


def _declared_length(environ: dict) -> int | None:
    """The body's declared length; None when it is chunked (unknown), 0 when there is none."""
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return None
    try:
        return max(0, int(environ.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


class SlowClientGuard:
    """WSGI middleware: upload slots and the body read timeout (see the module docstring)."""

    def __init__(self, app: Callable, *, upload_slots: int, read_timeout_s: float) -> None:
        self.app, self.upload_slots = app, upload_slots
        self._slots = threading.BoundedSemaphore(upload_slots)
        self._watchdog = _Watchdog(read_timeout_s)

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        length = _declared_length(environ)
        sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
        if length == 0 or sock is None:
            return self.app(environ, start_response)
        needs_slot = length is None or length > SMALL_BODY_BYTES
        if needs_slot and not self._slots.acquire(blocking=False):
            return _AfterClose(self._busy(environ, start_response), lambda: shut_read_side(sock))
        guarded = _GuardedInput(environ["wsgi.input"], sock, self._watchdog.read_timeout_s)
        environ["wsgi.input"] = guarded
        self._watchdog.watch(guarded)

        def release() -> None:
            self._watchdog.forget(guarded)
            if needs_slot:
                self._slots.release()

        try:
            return _AfterClose(self.app(environ, start_response), release)
        except BaseException:
            release()
            raise

    def _busy(self, environ: dict, start_response: StartResponse) -> list[bytes]:
        """503 at once, the body unread; the caller shuts the socket's read side afterwards so
        that the server does not wait for the body to drain before it closes the connection."""
        message = (f"The server is receiving as many uploads as it can at once ({self.upload_slots} "
                   f"per web process, UPLOAD_SLOTS); try again in {RETRY_AFTER_S} s.")
        if environ.get("PATH_INFO", "").startswith("/api/"):
            body, kind = json.dumps({"error": message, "status": 503}).encode(), "application/json"
        else:
            body, kind = (f"<!doctype html><title>Busy</title><p>{message}</p>\n").encode(), "text/html; charset=utf-8"
        start_response("503 Service Unavailable", [
            ("Content-Type", kind), ("Content-Length", str(len(body))),
            ("Retry-After", str(RETRY_AFTER_S)), *SECURITY_HEADERS.items()])
        return [body]

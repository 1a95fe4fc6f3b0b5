"""The /live page and its API: the web app's side of live pose (see ``live.server``).

The page sends each frame to ``POST /api/live/sessions/<id>/frames`` on this app (its
Content-Security-Policy allows requests to its own origin only), and this module passes it on
to the live server at LIVE_URL and its answer back, unchanged. Frames go through plain HTTP
(one fetch per frame, the next only after the answer): no new dependency, no second port, the
same CSRF and cross-site rules as every other request, and the page's one-frame-in-flight rule
needs nothing more than ``await``. Nothing is stored: a frame lives in memory for its request.
Every call names the browser's owner id (``X-Live-Owner``; none for a script without the
cookie), and the live server lets only that owner send frames to or close the session.
"""
from __future__ import annotations

import http.client
import json
import re
from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from werkzeug.exceptions import HTTPException

from live import OWNER_HEADER
from web.session import owner_id
from web.state import state

bp = Blueprint("live", __name__)
#: Seconds to wait for the live server: a frame's answer takes well under one (a loaded machine
#: and two other sessions ahead of it: a few).
TIMEOUT_S = 15.0
_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
LIVE_DOWN = ("The live pose server is not running or not reachable, so live pose is unavailable "
             "right now (uploads still work). It is started by `posestudio serve`; its log says why it stopped.")
LIVE_OFF = "Live pose is turned off on this server (LIVE_SESSIONS=0)."


class LiveUnavailable(HTTPException):
    code = 503


def _live_call(method: str, path: str, body: bytes | None = None,
               content_type: str = "application/json") -> tuple[int, dict[str, Any] | None, dict[str, str]]:
    """One request to the live server: (status, JSON body or None, headers worth passing on).
    Raises LiveUnavailable when it is off, down or does not answer in time."""
    live = state().settings.live
    if not live.enabled:
        raise LiveUnavailable(LIVE_OFF)
    host, port = live.host_port
    conn = http.client.HTTPConnection(host, port, timeout=TIMEOUT_S)
    headers = {"Content-Type": content_type} if body is not None else {}
    owner = owner_id(create=False)
    if owner is not None:
        headers[OWNER_HEADER] = owner
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException):
        raise LiveUnavailable(LIVE_DOWN) from None
    finally:
        conn.close()
    headers = {k: v for k, v in response.getheaders() if k.lower() == "retry-after"}
    try:
        return response.status, (json.loads(data) if data else None), headers
    except ValueError:
        raise LiveUnavailable(LIVE_DOWN) from None


def _relay(method: str, path: str, body: bytes | None = None, content_type: str = "application/json") -> Response:
    status, payload, headers = _live_call(method, path, body, content_type)
    if status >= 400 and not payload:
        payload = {"error": "The live server refused this request.", "status": status}
    response = Response("" if payload is None else json.dumps(payload, separators=(",", ":")), status=status,
                        mimetype="application/json" if payload is not None else None, headers=headers)
    response.headers["Cache-Control"] = "no-store"
    return response


def _session_path(session_id: str) -> str:
    if not _SESSION_ID.match(session_id):
        abort(404, description="There is no live session with this id.")
    return f"/sessions/{session_id}"


@bp.get("/live")
def page() -> str:
    owner_id()  # recording uploads as this browser's job
    live = state().settings.live
    return render_template("live.html", live_enabled=live.enabled, max_upload_bytes=state().settings.max_upload_bytes)


@bp.get("/api/live/status")
def status() -> Response:
    """The models the live server offers and its sessions (open, limit); 503 when it is away."""
    return _relay("GET", "/status")


@bp.post("/api/live/sessions")
def create_session() -> Response:
    """Start a live session: JSON ``{"model": "openpose"}`` (optional) -> 201 {id, model, skeleton, ...}."""
    body = request.get_data(cache=False)[:4096] or b"{}"
    return _relay("POST", "/sessions", body)


@bp.post("/api/live/sessions/<session_id>/frames")
def frame(session_id: str) -> Response:
    """One JPEG frame as the body -> the people in it, in its pixels, with track IDs."""
    path = _session_path(session_id) + "/frames"
    limit = state().settings.live.max_frame_bytes
    if request.content_length is not None and request.content_length > limit:
        abort(413, description=f"The frame is {request.content_length:,} bytes, over the live limit of "
                               f"{limit:,} bytes (LIVE_MAX_FRAME_KB); send smaller JPEG frames.")
    data = request.get_data(cache=False)
    if len(data) > limit:
        abort(413, description=f"The frame is over the live limit of {limit:,} bytes (LIVE_MAX_FRAME_KB).")
    return _relay("POST", path, data, "image/jpeg")


@bp.delete("/api/live/sessions/<session_id>")
def close_session(session_id: str) -> Response:
    """End a live session at once (the page does when it stops or is closed); 204."""
    return _relay("DELETE", _session_path(session_id))

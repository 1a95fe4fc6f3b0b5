"""The browser's identity and CSRF protection, both kept in Flask's signed session cookie.

- ``owner_id()``: a random id given to a browser on its first page view; jobs uploaded from that
  browser carry it, so "My jobs" can list them. Scripts without the cookie own no jobs.
- CSRF: every state-changing request that carries the session cookie must present the session's
  token, as the form field ``csrf_token`` or the ``X-CSRF-Token`` header (fetch/XHR). A request
  without the cookie (``curl -F video=@clip.mp4 .../api/jobs``) acts for nobody's session, so it
  needs no token. The admin pages always need it (:func:`require_csrf_token`): their credentials
  (loopback, HTTP Basic) are sent by a browser on its own, cookie or not.
"""
from __future__ import annotations

import hmac
import secrets

from flask import Flask, current_app, request, session
from werkzeug.exceptions import BadRequest

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CsrfError(BadRequest):
    description = (
        "This form was sent without its security token (or with an outdated one). "
        "Reload the page and try again."
    )


def owner_id(*, create: bool = True) -> str | None:
    """This browser's owner id; created (and the session made permanent) when ``create``."""
    owner = session.get("owner")
    if owner is None and create:
        owner = session["owner"] = secrets.token_urlsafe(16)
        session.permanent = True
    return owner


def csrf_token() -> str:
    """The session's CSRF token, created on first use (templates call this as ``csrf_token()``)."""
    token = session.get("csrf")
    if token is None:
        token = session["csrf"] = secrets.token_urlsafe(32)
        session.permanent = True
    return token


def _has_session_cookie() -> bool:
    return current_app.config["SESSION_COOKIE_NAME"] in request.cookies


def check_csrf() -> None:
    """before_request hook: reject unsafe requests from a cookie-bearing client without the token."""
    if request.method in SAFE_METHODS or not _has_session_cookie():
        return
    require_csrf_token()


def require_csrf_token() -> None:
    """Raise CsrfError unless the request carries the session's token (cookie or not)."""
    if request.method in SAFE_METHODS:
        return
    expected = session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        sent = request.form.get(CSRF_FIELD)
    if not expected or not sent or not hmac.compare_digest(str(sent), str(expected)):
        raise CsrfError()


def init_session(app: Flask) -> None:
    app.before_request(check_csrf)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["CSRF_FIELD"] = CSRF_FIELD

"""The browser's identity and protection against cross-site requests (CSRF).

- ``owner_id()``: a random id given to a browser on its first page view; jobs uploaded from that
  browser carry it, so "My jobs" can list them. Scripts without the cookie own no jobs.
- Cross-site requests: a state-changing request that a browser sends for a page of another
  origin (an auto-submitting form, a no-cors fetch) is refused with a 403
  (:func:`refuse_cross_site`), cookie or not: without it, any page a local user visits could
  queue work on their instance. Browsers say where a request comes from (``Sec-Fetch-Site``,
  ``Origin``); scripts send neither and pass (the rule of Go's ``http.CrossOriginProtection``).
- CSRF: every state-changing request that carries the session cookie must present the session's
  token, as the form field ``csrf_token`` or the ``X-CSRF-Token`` header (fetch/XHR). A request
  without the cookie (``curl -F video=@clip.mp4 .../api/jobs``) acts for nobody's session, so it
  needs no token. The admin pages always need it (:func:`require_csrf_token`): their credentials
  (loopback, HTTP Basic) are sent by a browser on its own, cookie or not.
"""
from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from flask import Flask, current_app, request, session
from werkzeug.exceptions import BadRequest, Forbidden

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: ``Sec-Fetch-Site`` values of requests made by this app's own pages or by the person
#: (typed address, bookmark); ``same-site`` is another origin of the same site (another port).
OWN_FETCH_SITES = frozenset({"same-origin", "none"})


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


def refuse_cross_site() -> None:
    """before_request hook: raise Forbidden for a state-changing request that a browser sent
    from a page of another origin. ``Sec-Fetch-Site`` (every current browser sends it) decides;
    without it, an ``Origin`` header whose host is not the one asked for (``null`` included)
    is refused. A request with neither is not from a browser page (curl, requests) and passes."""
    if request.method in SAFE_METHODS:
        return
    origin = request.headers.get("Origin")
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        if fetch_site in OWN_FETCH_SITES:
            return
        seen = f"Sec-Fetch-Site: {fetch_site}" + (f", Origin: {origin}" if origin else "")
    elif origin is None or urlsplit(origin).netloc.lower() == request.host.lower():
        return
    else:
        seen = f"Origin: {origin}"
    raise Forbidden(
        f"This request came from a page of another site ({seen[:200]}), not from this app's own "
        f"pages at {request.host_url.rstrip('/')}, so it was refused. Open Pose Studio itself "
        "to upload or change jobs; scripts (curl, requests) send no Origin header and are accepted.")


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
    app.before_request(refuse_cross_site)  # first: a forged request is told so, not "reload"
    app.before_request(check_csrf)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["CSRF_FIELD"] = CSRF_FIELD

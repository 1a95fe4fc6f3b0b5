"""Who may use the admin pages and ``/metrics``.

Open to loopback clients only (the machine itself, asking for ``127.0.0.1`` or ``localhost``),
unless ``ADMIN_PASSWORD`` is set: then HTTP Basic with any user name and that password, from
anywhere. A reverse proxy on this machine connects from loopback for every visitor: one that
says so (``X-Forwarded-For``, ``Forwarded``, ``X-Real-IP``; Caddy, Apache and most nginx
set-ups) is refused, but a bare nginx ``proxy_pass`` cannot be told apart, so behind a proxy
set ``ADMIN_PASSWORD``.
"""
from __future__ import annotations

import hmac
import ipaddress

from flask import abort, request
from werkzeug.wrappers import Response

from web.state import state

#: Headers a reverse proxy adds: a loopback peer that sends one is relaying someone else.
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def _is_loopback_name(name: str | None) -> bool:
    if name is None:
        return False
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _host_name(host: str) -> str:
    """``request.host`` without its port (``[::1]:5000`` -> ``::1``)."""
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_local() -> bool:
    """A client on this machine that asked for this machine by a loopback name: not a reverse
    proxy relaying a visitor, and not a page from another site whose host name was re-pointed
    at 127.0.0.1 (DNS rebinding: it could read the admin page as its own)."""
    if any(name in request.headers for name in PROXY_HEADERS):
        return False
    return _is_loopback_name(request.remote_addr) and _is_loopback_name(_host_name(request.host))


def refuse_unless_admin() -> Response | None:
    """None for an admin; otherwise a 401 asking for the password (when one is set), or aborts
    with a 403 that says how to get in."""
    password = state().settings.admin_password
    if password:
        auth = request.authorization
        if auth is None or not hmac.compare_digest((auth.password or "").encode(), password.encode()):
            return Response("Admin pages need the admin password (HTTP Basic; any user name).",
                            401, {"WWW-Authenticate": 'Basic realm="Pose Studio admin"'},
                            mimetype="text/plain")
    elif not _is_local():
        abort(403, description="The admin pages are open only on this machine, at "
                               "http://127.0.0.1 or http://localhost. "
                               "Set ADMIN_PASSWORD to use them from elsewhere.")
    return None

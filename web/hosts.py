"""The host names this app answers to (ALLOWED_HOSTS), checked before anything else runs.

Without a list, a page on an attacker's site can point a name of theirs at 127.0.0.1 (DNS
rebinding) and talk to a server bound to loopback as if it were the same origin: its ``Origin``
and ``Host`` agree, so the cross-site rule of ``web.session`` lets it through, and every URL the
app builds (``url_for(..., _external=True)``) names the attacker's host. With a list, a request
whose ``Host`` names anything else is a 400 before any other hook or view runs (the first of
the app's URL value preprocessors, which Flask runs before its before-request hooks): no job,
no live session, no query, no URL built from it. Names compare without their port, case-insensitively; a listed
``.example.org`` also allows every name under it.
"""
from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import BadRequest

#: ALLOWED_HOSTS for a server bound to a loopback address (``posestudio serve``'s default).
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def host_name(host: str) -> str:
    """``Host`` without its port, lower-case, without a trailing dot: ``[::1]:5000`` -> ``[::1]``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[:host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0].rstrip(".") if host.count(":") == 1 else host.rstrip(".")


def is_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """Whether ``host`` (a ``Host`` header) names one of ``allowed`` (config.allowed_hosts); any
    host when ``allowed`` is empty."""
    if not allowed:
        return True
    name = host_name(host)
    if not name.startswith("[") and name.count(":") >= 2:  # a bare IPv6 address, as some clients send it
        name = f"[{name}]"
    return any(name == entry or (entry.startswith(".") and (name == entry[1:] or name.endswith(entry)))
               or name == f"[{entry}]" for entry in allowed)


def init_hosts(app: Flask, allowed: tuple[str, ...]) -> None:
    """Refuse requests for other hosts on ``app``, before any other of its hooks."""
    if not allowed:
        return

    def refuse_other_hosts(_endpoint: str | None, _values: dict | None) -> None:
        host = request.environ.get("HTTP_HOST") or request.environ.get("SERVER_NAME") or ""
        if not is_allowed(host, allowed):
            raise BadRequest(f"This server does not answer to the host name {host_name(host)[:100]!r}. Open it "
                             f"at one of its own addresses; its operator lists them in ALLOWED_HOSTS.")
    app.url_value_preprocessors.setdefault(None, []).insert(0, refuse_other_hosts)

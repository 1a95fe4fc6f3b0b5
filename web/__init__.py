"""The Flask side of Pose Studio: pages, JSON API, admin and output files (see app.create_app)."""
from __future__ import annotations

from flask import Flask, Response

# On every response: no MIME sniffing (outputs are served as their type, never guessed as HTML),
# no framing (clickjacking the cancel and delete buttons), and job URLs (which grant access to
# a job) never sent to another site in a Referer. The Content-Security-Policy lets pages load
# scripts, styles, images and media only from this origin, with no inline script or style at all
# (templates carry none: state goes in data- attributes for static/*.js), so an injected tag
# in a job's name or error text could not run even if escaping ever failed.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "media-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
}


def _add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def register_web(app: Flask) -> None:
    """Install CSRF/session hooks, streamed uploads, error pages and every blueprint on ``app``,
    behind the guard against slow and stalled uploads (``web.slow_clients``)."""
    from web import admin, api, deletion, health, live, metrics, openapi, outputs, pages, people
    from web.broker_view import ServiceViews
    from web.errors import init_errors
    from web.hosts import init_hosts
    from web.queue_notice import init_queue_notice
    from web.session import init_session
    from web.slow_clients import SlowClientGuard
    from web.state import refuse_impossible_job_ids
    from web.uploads import init_uploads

    init_uploads(app)
    init_session(app)
    init_errors(app)
    app.after_request(_add_security_headers)
    init_hosts(app, app.extensions["posestudio"].settings.allowed_hosts)  # first of the hooks
    app.url_value_preprocessor(refuse_impossible_job_ids)
    app.add_template_filter(outputs.screenshot_label, "shot_label")
    for blueprint in (pages.bp, api.bp, people.bp, outputs.bp, admin.bp, deletion.bp, health.bp, metrics.bp,
                      openapi.bp, live.bp):
        app.register_blueprint(blueprint)
    settings = app.extensions["posestudio"].settings
    app.extensions["posestudio.views"] = ServiceViews(settings)
    init_queue_notice(app, settings)
    app.wsgi_app = SlowClientGuard(app.wsgi_app, upload_slots=settings.upload_slots,
                                   read_timeout_s=settings.upload_read_timeout_s)

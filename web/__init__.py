"""The Flask side of Pose Studio: pages, JSON API, admin and output files (see app.create_app)."""
from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    """Install CSRF/session hooks, streamed uploads, error pages and every blueprint on ``app``."""
    from web import admin, api, outputs, pages
    from web.errors import init_errors
    from web.session import init_session
    from web.uploads import init_uploads

    init_uploads(app)
    init_session(app)
    init_errors(app)
    app.add_template_filter(outputs.screenshot_label, "shot_label")
    for blueprint in (pages.bp, api.bp, outputs.bp, admin.bp):
        app.register_blueprint(blueprint)

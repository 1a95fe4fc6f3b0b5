"""The Flask application factory: `create_app()` for gunicorn (`app:create_app()`), tests and the CLI.

Configuration comes from :class:`config.Settings` (environment variables, documented in
docs/configuration.md) or, in tests, from a ``test_config`` mapping that may carry a ready
``SETTINGS`` object, an ``ENQUEUE`` callable (job id -> None) and any Flask config keys.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Mapping

from flask import Flask

from config import Settings
from web.state import WebState


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the web app: pages, JSON API, admin, output files; one JobStore per app.

    Sets the process's umask to 0o077 (``jobs.paths.make_service_folders``): whatever the web
    app writes (uploads, the job database, ZIPs) is private to the service's user.
    """
    test_config = dict(test_config or {})
    settings: Settings = test_config.pop("SETTINGS", None) or Settings.from_env()
    enqueue = test_config.pop("ENQUEUE", None)

    app = Flask(__name__, instance_path=str(settings.instance_dir.resolve()))
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        # Caps text fields and the parser's buffer (it must exceed werkzeug's 64 KiB read size);
        # files never count against it: they go to disk as they arrive (see web.uploads).
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(days=365),
        SEND_FILE_MAX_AGE_DEFAULT=timedelta(hours=1),
    )
    app.config.update(test_config)

    from jobs.paths import make_service_folders
    from web import register_web

    make_service_folders(settings)  # this process writes private files from now on (umask 077)
    app.extensions["posestudio"] = WebState.create(settings, enqueue=enqueue)
    register_web(app)
    return app

"""Live pose from a webcam: the live server's side (``posestudio live``; see docs/live.md).

The browser sends JPEG frames to the web app, which passes them on to the live server, a process
of its own that loads each model once and answers every frame with the people in it, tracked
across the session's frames. Nothing here imports Flask or Celery; ``web.live`` is the web app's
side and ``posestudio.commands.live`` starts the server.
"""

#: The header that names a live session's owner (``web.live`` sends the browser's owner id); here,
#: where importing it loads nothing else.
OWNER_HEADER = "X-Live-Owner"

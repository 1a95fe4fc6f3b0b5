"""A RabbitMQ virtual host of a test's own on the shared server (127.0.0.1:5672, guest), so that no
other test's workers share its queues; deleted afterwards. Needs rabbitmqctl (skips, saying why)."""
from __future__ import annotations

import secrets
import shutil
import subprocess
from contextlib import contextmanager
from typing import Iterator

import pytest


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)


@contextmanager
def own_vhost(prefix: str) -> Iterator[str]:
    """Yields the new virtual host's name (``prefix`` and 8 hex digits), guest may use it all."""
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl not found: cannot make a RabbitMQ virtual host of this test's own")
    vhost = f"{prefix}{secrets.token_hex(4)}"
    _rabbitmqctl("add_vhost", vhost)
    try:
        _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield vhost
    finally:
        _rabbitmqctl("delete_vhost", vhost)

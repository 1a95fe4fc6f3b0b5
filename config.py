"""Configuration lives here and nowhere else; libraries receive it as explicit arguments.

Paths default to folders in the repository. The web app and the workers read their settings
from environment variables through :meth:`Settings.from_env` (each documented in the README);
nothing else in the project reads the environment.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

ROOT = Path(__file__).resolve().parent
DEFAULT_MODEL_PATH = ROOT / "models" / "graph_opt.pb"
DEFAULT_OUTPUTS_DIR = ROOT / "outputs"
DEFAULT_UPLOADS_DIR = ROOT / "uploads"
DEFAULT_INSTANCE_DIR = ROOT / "instance"


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int | None = None) -> int:
    value = env.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"environment variable {name} must be an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ValueError(f"environment variable {name} must be at least {minimum}, got {number}")
    return number


@dataclass(frozen=True)
class Settings:
    """Everything the web app and the workers need to know about their surroundings."""

    instance_dir: Path = DEFAULT_INSTANCE_DIR
    uploads_dir: Path = DEFAULT_UPLOADS_DIR
    outputs_dir: Path = DEFAULT_OUTPUTS_DIR
    model_path: Path = DEFAULT_MODEL_PATH
    # SQLite file under the instance folder unless DATABASE_URL names another database.
    database_url: str | None = None
    # Redis (or any Celery broker) when set; otherwise kombu's filesystem transport under instance/.
    broker_url: str | None = None
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    max_upload_bytes: int = 2 * 1024**3
    # Uploads (bodies over 64 KiB) one web process receives at once; more get a 503 at once, so
    # threads stay free for pages (posestudio serve: 8 threads per process).
    upload_slots: int = 4
    # Each 64 KiB of an upload must arrive within this many seconds, or the client is cut off (408).
    upload_read_timeout_s: int = 30
    worker_concurrency: int = 1
    job_soft_time_limit_s: int = 6 * 3600
    job_hard_time_limit_s: int = 6 * 3600 + 300
    # A running job whose worker gave no sign of life for this long is requeued or failed.
    job_stale_after_s: int = 60
    inference_backend: str = "openvino"
    port: int = 5000
    # Admin pages: open to loopback clients only, unless ADMIN_PASSWORD is set (then HTTP Basic).
    admin_password: str | None = None

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.instance_dir / 'posestudio.sqlite3'}"

    @property
    def uses_embedded_broker(self) -> bool:
        return not self.broker_url

    def with_overrides(self, **changes) -> "Settings":
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        defaults = cls()
        instance_dir = Path(env.get("POSESTUDIO_INSTANCE_DIR") or defaults.instance_dir)
        secret_key = env.get("SECRET_KEY") or _persistent_secret(instance_dir)
        return cls(
            instance_dir=instance_dir,
            uploads_dir=Path(env.get("POSESTUDIO_UPLOADS_DIR") or defaults.uploads_dir),
            outputs_dir=Path(env.get("POSESTUDIO_OUTPUTS_DIR") or defaults.outputs_dir),
            model_path=Path(env.get("POSESTUDIO_MODEL_PATH") or defaults.model_path),
            database_url=env.get("DATABASE_URL") or None,
            broker_url=env.get("CELERY_BROKER_URL") or env.get("REDIS_URL") or None,
            secret_key=secret_key,
            max_upload_bytes=_int(env, "MAX_UPLOAD_MB", defaults.max_upload_bytes // 1024**2) * 1024**2,
            upload_slots=_int(env, "UPLOAD_SLOTS", defaults.upload_slots, minimum=1),
            upload_read_timeout_s=_int(env, "UPLOAD_READ_TIMEOUT_S", defaults.upload_read_timeout_s, minimum=1),
            worker_concurrency=_int(env, "WORKER_CONCURRENCY", defaults.worker_concurrency),
            job_soft_time_limit_s=_int(env, "JOB_SOFT_TIME_LIMIT_S", defaults.job_soft_time_limit_s),
            job_hard_time_limit_s=_int(env, "JOB_HARD_TIME_LIMIT_S", defaults.job_hard_time_limit_s),
            job_stale_after_s=_int(env, "JOB_STALE_AFTER_S", defaults.job_stale_after_s),
            inference_backend=env.get("INFERENCE_BACKEND") or defaults.inference_backend,
            port=_int(env, "PORT", defaults.port),
            admin_password=env.get("ADMIN_PASSWORD") or None,
        )


def _persistent_secret(instance_dir: Path) -> str:
    """A random secret kept in the instance folder, so sessions survive restarts without config."""
    path = instance_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        instance_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process (web or worker) created it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key

"""The Celery application: broker, limits and delivery settings for long video jobs.

``celery -A workers.celery_app worker`` uses :data:`celery_app`, built from the environment
(:meth:`config.Settings.from_env`). With ``REDIS_URL`` / ``CELERY_BROKER_URL`` set, that broker
is used; otherwise kombu's filesystem transport under ``<instance>/broker/`` - one host, no
server, but real queues with fanout (so ``celery inspect`` works), through
:mod:`workers.fsqueue`, whose messages appear in the queue whole or not at all.

Job state lives in the job store, not in a result backend, so results are ignored.
"""
from __future__ import annotations

from pathlib import Path

from celery import Celery, signals

from config import Settings
from workers.memory import return_freed_memory_at_once

#: How long past the hard time limit Redis waits before redelivering an unacknowledged job.
VISIBILITY_MARGIN_S = 3600


def filesystem_broker_folders(settings: Settings) -> dict[str, Path]:
    """The embedded broker's folders (created if missing, private: this module makes them on
    import, before a worker sets its umask)."""
    root = Path(settings.instance_dir) / "broker"
    folders = {name: root / name for name in ("queue", "staging", "claimed", "processed", "control")}
    for folder in (root, *folders.values()):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folders


#: Seconds between an idle consumer's looks at the embedded queue's folders (a directory listing).
FILESYSTEM_POLL_S = 0.2


def broker_config(settings: Settings) -> dict:
    """``broker_url`` and ``broker_transport_options`` for these settings."""
    if settings.broker_url:
        return {
            "broker_url": settings.broker_url,
            # A job unacknowledged this long is handed to another worker; it must outlast the
            # longest job, or a job still running would be started a second time.
            "broker_transport_options": {
                "visibility_timeout": settings.job_hard_time_limit_s + VISIBILITY_MARGIN_S,
            },
        }
    folders = filesystem_broker_folders(settings)
    return {
        "broker_url": "filesystem://",
        "broker_transport": "workers.fsqueue:Transport",
        "broker_transport_options": {
            "data_folder_in": str(folders["queue"]),
            "data_folder_out": str(folders["queue"]),
            "staging_folder": str(folders["staging"]),
            "claimed_folder": str(folders["claimed"]),
            "processed_folder": str(folders["processed"]),
            "control_folder": str(folders["control"]),
            "store_processed": False,
            # How often an idle consumer looks at its folders (kombu's default is 1 s): a job
            # starts, and a worker answers the admin page's broadcast, within a fifth of a second.
            "polling_interval": FILESYSTEM_POLL_S,
        },
    }


def create_celery(settings: Settings) -> Celery:
    """A Celery app for these settings; ``app.posestudio_settings`` carries them to the tasks."""
    app = Celery("posestudio", set_as_current=False)
    app.conf.update(
        **broker_config(settings),
        include=["workers.tasks", "workers.housekeeping"],
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        # One long job at a time per process; a job whose worker dies goes back to the queue.
        worker_prefetch_multiplier=1,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_soft_time_limit=settings.job_soft_time_limit_s,
        task_time_limit=settings.job_hard_time_limit_s,
        worker_concurrency=settings.worker_concurrency,
        # Give memory back now and then (long videos, big temporary arrays).
        worker_max_tasks_per_child=20,
        broker_connection_retry_on_startup=True,
    )
    app.posestudio_settings = settings
    return app


_apps: dict[tuple, Celery] = {}


def app_for(settings: Settings) -> Celery:
    """A Celery app for these settings' broker, created once per process and reused (it keeps
    a pool of broker connections). For the web side: enqueueing and inspecting."""
    key = (settings.broker_url, str(settings.instance_dir), settings.job_hard_time_limit_s)
    if key not in _apps:
        _apps[key] = create_celery(settings)
    return _apps[key]


@signals.worker_init.connect
def _private_files(sender=None, **_kwargs) -> None:  # noqa: ANN001 - Celery signal API
    """A starting worker writes only private files (umask 0o077; its pool processes inherit
    it) and makes its folders 0700: ``jobs.paths.make_service_folders``."""
    from jobs.paths import make_service_folders

    make_service_folders(getattr(getattr(sender, "app", None), "posestudio_settings", None)
                         or Settings.from_env())


@signals.worker_process_init.connect
def _return_freed_memory(**_kwargs) -> None:
    """Each job process gives freed memory back at once (see workers.memory)."""
    return_freed_memory_at_once()


celery_app = create_celery(Settings.from_env())
celery_app.set_default()

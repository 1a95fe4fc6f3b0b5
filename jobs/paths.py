"""Where a job's files live. Both the web app and the workers use these, never their own joins.

The user's file name is never part of a path: uploads are stored as ``<uploads>/<job id>/source``
and results under ``<outputs>/<job id>/``. Job ids come from ``secrets.token_urlsafe`` (letters,
digits, ``-`` and ``_``); :func:`check_job_id` rejects anything else before it touches a path.
"""
from __future__ import annotations

import errno
import os
import re
import shutil
from pathlib import Path

from config import Settings

_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: The service's files are its user's alone: new folders 0700, new files 0600.
SERVICE_UMASK = 0o077


#: The OS's ways of saying "the disk is full": no space (or no inodes), over a quota.
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` is the OS saying a disk is full (a failed ``write()`` names no file)."""
    return isinstance(exc, OSError) and exc.errno in DISK_FULL


def check_job_id(job_id: str) -> str:
    """Return ``job_id`` unchanged, or raise ValueError if it could escape its folder."""
    if not _JOB_ID.fullmatch(job_id):
        raise ValueError(f"not a valid job id: {job_id!r}")
    return job_id


def upload_path(settings: Settings, job_id: str) -> Path:
    """The uploaded video: ``settings.uploads_dir / job_id / "source"``."""
    return Path(settings.uploads_dir) / check_job_id(job_id) / "source"


def upload_images_dir(settings: Settings, job_id: str) -> Path:
    """An image job's photos: ``settings.uploads_dir / job_id / "images"`` (files named by
    their place in the upload, ``000001`` ...; the names their owner gave are data)."""
    return Path(settings.uploads_dir) / check_job_id(job_id) / "images"


def upload_views_dir(settings: Settings, job_id: str) -> Path:
    """A multi-view job's videos: ``settings.uploads_dir / job_id / "views"`` (files ``01``,
    ``02`` ...; the names their owner gave are data); its calibration is ``calibration`` beside."""
    return Path(settings.uploads_dir) / check_job_id(job_id) / "views"


def output_dir(settings: Settings, job_id: str) -> Path:
    """The pipeline's finished outputs: ``settings.outputs_dir / job_id``."""
    return Path(settings.outputs_dir) / check_job_id(job_id)


def remove_partial_outputs(out: Path) -> None:
    """Delete the temp folders pipeline runs left beside the output folder ``out``
    (``.<job id>.partial-*``, see ``pipeline.video.process_video``)."""
    for leftover in out.parent.glob(f".{out.name}.partial-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def remove_job_files(settings: Settings, job_id: str) -> None:
    """Delete a job's upload folder and output folder (and pipeline temp folders beside it)."""
    shutil.rmtree(upload_path(settings, job_id).parent, ignore_errors=True)
    out = output_dir(settings, job_id)
    shutil.rmtree(out, ignore_errors=True)
    remove_partial_outputs(out)


def make_service_folders(settings: Settings) -> None:
    """Set this process up as the service (web app, worker, ``posestudio serve``; never the
    command line's own commands): from now on it creates folders 0700 and files 0600 (umask
    ``SERVICE_UMASK``, which child processes inherit), and the instance, uploads and outputs
    folders exist and are 0700, so that nothing in them (the job database, the secret key,
    uploads and results, also those written before) is within other local users' reach.
    A folder owned by another user is left as its owner set it."""
    os.umask(SERVICE_UMASK)
    for folder in (settings.instance_dir, settings.uploads_dir, settings.outputs_dir):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        if folder.stat().st_uid == os.geteuid():
            folder.chmod(0o700)

"""Receiving photos: ``image`` fields (one or many) or a ZIP in ``archive``, as one image job.

Each photo is stored as ``jobs.paths.upload_images_dir(settings, job id) / "%06d"`` (its name
is data, in ``source_meta["images"]``) and checked from its header only (``pose.photos``:
format, size, ``MAX_IMAGE_PIXELS``; ``pipeline.limits.check_image``: the network limits at the
job's quality). A bad photo costs a warning that names it (kept on the job and shown on its
page) and the others go on; when none is usable the upload is refused (422) and nothing is
kept. More than ``MAX_IMAGES`` photos is a 413.
"""
from __future__ import annotations

import secrets
from pathlib import Path, PurePath
from typing import Any

from werkzeug.datastructures import FileStorage

from jobs import Job
from jobs.paths import remove_job_files, upload_images_dir
from pose.errors import InvalidImageError
from pose.photos import read_header
from web.state import state
from web.uploads import UploadError, enqueue_upload, store_file
from web.zip_images import ArchiveError, extract_photos
from pipeline.limits import LimitExceeded, check_image
from pipeline.options import PipelineOptions

IMAGE_FIELD = "image"
ARCHIVE_FIELD = "archive"
#: An image job's quality unless the form says otherwise: a photo is seconds even at accurate.
DEFAULT_IMAGE_QUALITY = "accurate"
#: Largest single photo a ZIP may inflate to (a 50 MP 16-bit TIFF is 300 MB).
MAX_ENTRY_BYTES = 320 * 1024**2
#: Warnings listed in a refusal's message; the rest are counted.
MESSAGE_WARNINGS = 5


def image_options(form_options: dict[str, Any], form: Any) -> dict[str, Any]:
    """The options of an image job: the form's, with :data:`DEFAULT_IMAGE_QUALITY` when the
    form chose no quality."""
    if str(form.get("quality", "")).strip() == "":
        return {**form_options, "quality": DEFAULT_IMAGE_QUALITY}
    return form_options


def accept_images(images: list[FileStorage], archive: FileStorage | None, options: dict[str, Any], *,
                  owner: str | None) -> Job:
    """Store, check and enqueue one image job; return it (see the module docstring).

    Raises UploadError: 400 (nothing sent, or both kinds), 413 (over MAX_IMAGES or a ZIP too
    large when inflated), 422 (no usable photo; the message names each file and why), 503
    (queue unreachable; the job is recorded as failed).
    """
    images = [f for f in images if f is not None and f.filename]
    if archive is not None and not archive.filename:
        archive = None
    if not images and archive is None:
        raise UploadError(f"No images were sent: attach photos in '{IMAGE_FIELD}' fields or a ZIP in "
                          f"'{ARCHIVE_FIELD}'.", status=400)
    if images and archive is not None:
        raise UploadError(f"Send photos ('{IMAGE_FIELD}') or one ZIP ('{ARCHIVE_FIELD}'), not both.", status=400)
    web = state()
    limits = web.settings.limits
    most = limits.max_images
    if most is not None and len(images) > most:
        raise UploadError(f"{len(images):,} images in one upload, over the limit of {most:,} (MAX_IMAGES); "
                          "send them as several jobs", status=413)
    job_id = secrets.token_hex(16)
    folder = upload_images_dir(web.settings, job_id)
    try:
        folder.mkdir(parents=True)
        stored, warnings = _store(images, archive, folder, most, web.settings.max_upload_bytes)
        parsed = PipelineOptions.from_mapping(options)
        photos = []
        for name, path in stored:
            try:
                header = read_header(path, name=name, max_pixels=limits.max_image_pixels)
                check_image(header.width, header.height, parsed, limits, name=name)
            except (InvalidImageError, LimitExceeded) as exc:
                warnings.append(str(exc))
                path.unlink(missing_ok=True)
                continue
            note = {"frames": header.frames} if header.frames > 1 else {}
            photos.append({"name": name, "file": path.name, "width": header.width, "height": header.height,
                           "format": header.format.lower(), **note})
            if header.frames > 1:
                warnings.append(f"{name}: an animated image of {header.frames} frames; only the first is used")
        if not photos:
            raise UploadError("No usable image: " + _listed(warnings), status=422)
        _unique_names(photos)
        source = archive.filename if archive is not None else (
            photos[0]["name"] if len(photos) == 1 else f"{photos[0]['name']} and {len(photos) - 1} more")
        job = web.store.create_job(job_id=job_id, source_name=source, options=options, owner=owner,
                                   source_meta={"images": photos, "warnings": warnings}, kind="images")
    except BaseException:
        remove_job_files(web.settings, job_id)
        raise
    return enqueue_upload(job, source)


def _store(images: list[FileStorage], archive: FileStorage | None, folder: Path, most: int | None,
           max_bytes: int) -> tuple[list[tuple[str, Path]], list[str]]:
    """The uploaded photos as (name, stored path), and warnings for ZIP entries left out."""
    if archive is None:
        stored = []
        for index, file in enumerate(images, start=1):
            path = folder / f"{index:06d}"
            store_file(file, path)
            stored.append((PurePath(file.filename.replace("\\", "/")).name or f"image {index}", path))
        return stored, []
    zipped = folder.parent / "archive.zip"
    store_file(archive, zipped)
    try:
        extracted = extract_photos(zipped, folder, name=archive.filename, max_entries=4 * (most or 10**6) + 100,
                                   max_entry_bytes=min(MAX_ENTRY_BYTES, max_bytes), max_total_bytes=max_bytes)
    except ArchiveError as exc:
        raise UploadError(str(exc), status=413 if exc.too_large else 422) from None
    finally:
        zipped.unlink(missing_ok=True)
    if most is not None and len(extracted.photos) > most:
        raise UploadError(f"{archive.filename}: holds {len(extracted.photos):,} images, over the limit of "
                          f"{most:,} (MAX_IMAGES); send them as several jobs", status=413)
    if not extracted.photos:
        raise UploadError(f"{archive.filename}: no images in the archive (JPEG, PNG, WebP, BMP, TIFF or GIF)"
                          + (": " + _listed(extracted.warnings) if extracted.warnings else ""), status=422)
    return extracted.photos, extracted.warnings


def _unique_names(photos: list[dict[str, Any]]) -> None:
    """Make the photos' names unique in the job (``a.jpg``, ``a (2).jpg``): they key the results."""
    seen: set[str] = set()
    for photo in photos:
        name, n = photo["name"], 2
        stem, dot, suffix = name.rpartition(".")
        while name in seen:
            name = f"{stem} ({n}).{suffix}" if dot else f"{photo['name']} ({n})"
            n += 1
        seen.add(name)
        photo["name"] = name


def _listed(warnings: list[str]) -> str:
    shown = "; ".join(warnings[:MESSAGE_WARNINGS])
    more = len(warnings) - MESSAGE_WARNINGS
    return shown + (f"; and {more:,} more" if more > 0 else "")

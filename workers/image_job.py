"""An image job (``Job.kind == "images"``) for the Celery task: its stored photos in, what to
record with its result out. The work itself is :func:`pipeline.images.process_images`."""
from __future__ import annotations

from config import Settings
from jobs import Job


def photos_of(job: Job, settings: Settings) -> list:
    """An image job's photos (``pipeline.images.PhotoInput``), in upload order, from the names
    its record keeps (``source_meta["images"]``) and the files the upload stored."""
    from jobs.paths import upload_images_dir
    from pipeline.images import PhotoInput

    folder = upload_images_dir(settings, job.id)
    return [PhotoInput(name=item["name"], path=folder / item["file"]) for item in job.source_meta.get("images", [])]


def record_of_images(job: Job, result) -> tuple[dict, dict]:  # noqa: ANN001 - pipeline.images' result
    """A finished image job's ``outputs`` (``images``: the annotated photos in upload order,
    None for one that could not be read) and ``timings`` (what it did)."""
    from pipeline.images import IMAGE_OUTPUT_KEYS

    outputs = {IMAGE_OUTPUT_KEYS[name]: name for name in result.files}
    outputs["images"] = list(result.annotated)
    warnings = list(job.source_meta.get("warnings", [])) + list(result.warnings)
    timings = {**result.timings, "images": len(result.people), "detections": result.detections,
               "images_failed": sum(n is None for n in result.people)}
    if warnings:
        timings["warnings"] = warnings
    return outputs, timings

"""Receiving several synchronised views: 2 to 8 ``video`` fields and one ``calibration`` field
(Pose2Sim ``Calib.toml`` or Qualisys ``.qca.txt``, read by content) as one job of kind
"multiview" (``pipeline.multiview.process_views`` runs it).

Everything :func:`pipeline.multiview.process_views` checks before its slow part is checked here
too, so that a bad upload is a 4xx naming the file, and nothing is kept: the number of views,
the calibration (:mod:`multiview.calibration`), each video (``videoio.probe`` and the resource
limits), one frame rate, and every video's camera and its size (:mod:`multiview.check`).

The videos are stored as ``uploads_dir / job_id / "views" / "%02d"`` and the calibration as
``uploads_dir / job_id / "calibration"``; the names the owner gave them are data, in
``source_meta["views"]`` (cameras are matched to videos by these names).
"""
from __future__ import annotations

import secrets
from pathlib import PurePath
from typing import Any

from werkzeug.datastructures import FileStorage

from jobs import Job
from jobs.paths import remove_job_files, upload_views_dir
from multiview.calibration import read_calibration
from multiview.check import check_calibration
from multiview.errors import MultiviewError
from videoio import VideoError, probe
from web.state import state
from web.uploads import VIDEO_FIELD, UploadError, name_the_file, describe_video, enqueue_upload, store_file
from pipeline.limits import LimitExceeded, check_job
from pipeline.multiview import MAX_VIEWS, MIN_VIEWS
from pipeline.options import PipelineOptions

CALIBRATION_FIELD = "calibration"
#: Optional: the views' offsets in frames, one per video in upload order ("0,0,12,0"); estimated without.
OFFSETS_FIELD = "offsets"
#: The upload page's field for the views (its plain form post; the API takes them as ``video``).
VIEW_FIELD = "view"


def parse_offsets(text: str | None, count: int) -> list[int] | None:
    """The ``offsets`` field ("0, 0, 12, 0": whole frames, one per video) or None when blank.
    Raises UploadError (400) saying what is wrong."""
    if text is None or not str(text).strip():
        return None
    parts = [p.strip() for p in str(text).replace(";", ",").split(",")]
    try:
        offsets = [int(p) for p in parts]
    except ValueError:
        raise UploadError(f"offsets must be whole numbers of frames separated by commas, one per video, "
                          f"got {str(text)[:60]!r}.", status=400) from None
    if len(offsets) != count:
        raise UploadError(f"{len(offsets)} offsets for {count} videos: give one per video, in the order they "
                          "were sent (or none, to have them estimated).", status=400)
    if any(abs(o) > 10**6 for o in offsets):
        raise UploadError("an offset is over 1,000,000 frames: give offsets in frames of the videos.", status=400)
    return offsets


def without_offsets(form: Any) -> dict[str, Any]:
    """The form's fields but :data:`OFFSETS_FIELD` (which is not a pipeline option)."""
    return {k: v for k, v in form.items() if k != OFFSETS_FIELD}


def accept_views(videos: list[FileStorage], calibration: FileStorage | None, options: dict[str, Any], *,
                 owner: str | None, offsets: str | None = None) -> Job:
    """Store, check and enqueue one multi-view job; return it (see the module docstring).

    Raises UploadError: 400 (fewer than 2 or more than 8 videos, no calibration, two videos of
    one name, offsets that are not one whole number per video), 413 (a video over a resource limit), 422 (a calibration that cannot be read, a
    video that cannot be read, frame rates that differ, a video without its camera or of the
    wrong size; the message names the file), 503 (queue unreachable; the job is recorded failed).
    """
    videos = [f for f in videos if f is not None and f.filename]
    if not MIN_VIEWS <= len(videos) <= MAX_VIEWS:
        raise UploadError(f"{len(videos)} video(s) sent: several cameras need {MIN_VIEWS} to {MAX_VIEWS} "
                          f"synchronised views of one scene in '{VIDEO_FIELD}' fields.", status=400)
    if calibration is None or not calibration.filename:
        raise UploadError(f"No calibration was sent: attach the cameras' calibration (Pose2Sim Calib.toml or "
                          f"Qualisys .qca.txt) in the form field '{CALIBRATION_FIELD}'.", status=400)
    names = [PurePath(f.filename.replace("\\", "/")).name or f"video {i}" for i, f in enumerate(videos, start=1)]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise UploadError(f"Two videos are named {twice[0]!r}: each video is matched to its camera by its name.",
                          status=400)
    given = parse_offsets(offsets, len(videos))
    parsed = PipelineOptions.from_mapping(options)
    if parsed.start_s or parsed.frame_stride != 1:
        raise UploadError("start_s and frame_stride are not for several views (their frames are matched one by one): "
                          "send the whole videos, or end_s.", status=400)
    web = state()
    job_id = secrets.token_hex(16)
    folder = upload_views_dir(web.settings, job_id).parent
    calib_name = PurePath(calibration.filename.replace("\\", "/")).name
    try:
        store_file(calibration, folder / "calibration")
        try:
            cameras = read_calibration(folder / "calibration")
        except MultiviewError as exc:
            raise UploadError(name_the_file(str(exc), "calibration", calib_name), status=422) from None
        views, infos = [], []
        for index, (file, name) in enumerate(zip(videos, names), start=1):
            path = folder / "views" / f"{index:02d}"
            store_file(file, path)
            try:
                info = probe(path)
                check_job(info, parsed, web.settings.limits, name=name)
            except VideoError as exc:
                raise UploadError(name_the_file(str(exc), path.name, name), status=422) from None
            except LimitExceeded as exc:
                raise UploadError(f"{name!r}: {exc}", status=413) from None
            infos.append(info)
            views.append({"name": name, "file": path.name, **describe_video(info)})
        rates = {str(i.fps) for i in infos}
        if len(rates) > 1:
            listed = ", ".join(f"{n} {float(i.fps):g} fps" for n, i in zip(names, infos))
            raise UploadError(f"The videos have different frame rates ({listed}): film every view at one rate.",
                              status=422)
        try:
            checked = check_calibration(cameras, names, [(i.width, i.height) for i in infos])
        except MultiviewError as exc:
            raise UploadError(f"{calib_name!r}: {exc}", status=422) from None
        source = f"{len(names)} views: " + ", ".join(names)
        job = web.store.create_job(job_id=job_id, source_name=source[:240], options=options, owner=owner,
                                   source_meta={"views": views, "calibration": calib_name,
                                                "warnings": list(checked.warnings), "offsets": given},
                                   kind="multiview")
    except BaseException:
        remove_job_files(web.settings, job_id)
        raise
    return enqueue_upload(job, source)

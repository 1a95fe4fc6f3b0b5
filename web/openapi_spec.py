"""The OpenAPI 3.1 document of Pose Studio's HTTP API, served at ``/api/openapi.json``.

Written by hand beside the code, except the job options, which come from
``pipeline.options.PipelineOptions`` itself. ``tests/web/test_web_openapi.py`` holds the two
together: every route of the app is here (or on its list of HTML pages), every documented
status code is produced by a real request, and every JSON body matches its schema.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from live.models import MODELS as LIVE_MODELS
from pose.models import MODEL_NAMES
from pose.multiscale import QUALITY_NAMES
from pose.skeleton import SKELETONS
from web.api import MAX_SCREENSHOT_OFFSET, MAX_SCREENSHOT_PAGE
from pipeline.options import BACKEND_NAMES, PRECISION_NAMES, PipelineOptions

JSON = "application/json"
_ID = {"name": "job_id", "in": "path", "required": True, "description": "The job's id (from POST /api/jobs).",
       "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}}
_NULLABLE_NUMBER = {"type": ["number", "null"]}
_NULLABLE_INTEGER = {"type": ["integer", "null"]}
_NULLABLE_STRING = {"type": ["string", "null"]}
_TIME = {"type": ["string", "null"], "format": "date-time"}
_ENUMS = {"model": list(MODEL_NAMES), "backend": list(BACKEND_NAMES), "precision": list(PRECISION_NAMES),
          "quality": list(QUALITY_NAMES)}
_TYPES = {"int": "integer", "float": "number", "bool": "boolean", "str": "string"}


def _option_schema(field: dataclasses.Field) -> dict[str, Any]:
    """A PipelineOptions field as a JSON schema, from its annotation (``int | None`` ...)."""
    kinds = [part.strip() for part in str(field.type).split("|")]
    types = [_TYPES[k] for k in kinds if k != "None"] + (["null"] if "None" in kinds else [])
    schema: dict[str, Any] = {"type": types[0] if len(types) == 1 else types, "default": field.default}
    if field.name in _ENUMS:
        schema["enum"] = _ENUMS[field.name]
    return schema


def options_schema() -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False,
            "description": "How the video is processed (pipeline.options.PipelineOptions; docs/api.md lists them).",
            "properties": {f.name: _option_schema(f) for f in dataclasses.fields(PipelineOptions)}}


def _upload_form() -> dict[str, Any]:
    fields = {name: {**schema, "type": "string", "description": f"as text; {schema['type']}"}
              for name, schema in options_schema()["properties"].items()}
    for schema in fields.values():
        schema.pop("default", None)
        schema.pop("enum", None)
    return {"type": "object", "description": "One of: a video in video, photos in image fields, or a ZIP of "
                                             "photos in archive (photos and a ZIP make one image job).",
            "properties": {
        "video": {"type": "string", "contentMediaType": "application/octet-stream",
                  "description": "The video file; or 2 to 8 video fields and a calibration: one multi-view job "
                                 "(each video is matched to its camera by name)."},
        "calibration": {"type": "string", "contentMediaType": "application/octet-stream",
                        "description": "With several videos: the cameras' calibration, Pose2Sim Calib.toml or "
                                       "Qualisys .qca.txt (read by content)."},
        "offsets": {"type": "string", "description": "With several videos, optional: each video's offset in frames, "
                                                     "in the order sent (\"0,0,12,0\": the fourth camera started 12 "
                                                     "frames late); estimated from the people's motion without."},
        "image": {"type": "array", "items": {"type": "string", "contentMediaType": "application/octet-stream"},
                  "description": "Photos (JPEG, PNG, WebP, BMP, TIFF, GIF: its first frame), one field each, "
                                 "at most MAX_IMAGES; one that cannot be used is a warning naming it. quality "
                                 "defaults to accurate for photos."},
        "archive": {"type": "string", "contentMediaType": "application/zip",
                    "description": "A ZIP of photos (entries with '..', absolute paths, nested archives and "
                                   "bombs are left out, each with a warning)."},
        "csrf_token": {"type": "string", "description": "Only with the session cookie (the pages)."},
        **fields}}


def _error(text: str, media: str = JSON) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Error"} if media == JSON else {"type": "string"}
    return {"description": text, "content": {media: {"schema": schema}}}


def _json(text: str, ref: str, **extra: Any) -> dict[str, Any]:
    return {"description": text, "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{ref}"}}}, **extra}


_CHANGE_REFUSED = {
    "400": _error("The session cookie was sent without the CSRF token (X-CSRF-Token header)."),
    "403": _error("Sent by a browser for a page of another site (Sec-Fetch-Site, Origin)."),
}
_GONE = {"404": _error("There is no job with this id."),
         "410": _error("The job expired: the retention sweep deleted it (RETENTION_DAYS).")}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "string"}}}


def _unavailable(text: str, media: str = JSON) -> dict[str, Any]:
    return {**_error(text, media), "headers": _RETRY_AFTER}


_DATABASE = "The job database is unreachable just now; nothing was lost (Retry-After)."
#: What every operation that reads or writes the job database answers while it is away.
_DATABASE_AWAY = {"503": _unavailable(_DATABASE)}
_DATABASE_AWAY_HTML = {"503": _unavailable(_DATABASE, "text/html")}


_LIVE_ID = {"name": "session_id", "in": "path", "required": True,
            "description": "The live session's id (from POST /api/live/sessions).",
            "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}}
_LIVE_DOWN = _error("The live server is not running or not reachable, or live pose is turned off (LIVE_SESSIONS=0).")
_PARTIAL = {"206": {"description": "The requested range (Range).", "content": {"*/*": {"schema": {"type": "string"}}}},
            "416": {"description": "The requested range is not within the file (Content-Range: bytes */size)."}}
_NOT_MODIFIED = {"304": {"description": "Not modified (If-None-Match / If-Modified-Since)."}}
#: gunicorn's own answers, before the app sees the request: to every operation.
_SERVER_LIMITS = {"414": _error("The request line is over gunicorn's 4,094 bytes (a URL that long).", "text/html"),
                  "431": _error("A header is over 8,190 bytes, or there are over 100 (gunicorn's limits).",
                                "text/html")}


def _paths() -> dict[str, Any]:
    return {
        "/api/jobs": {
            "get": {"operationId": "listJobs", "summary": "The jobs uploaded from this browser (session cookie), newest first; none for a caller without the cookie.",
                    "responses": {"200": _json("The caller's jobs.", "JobList"),
                                  "503": _unavailable(_DATABASE + " Only with a session cookie: without one "
                                                      "the list is empty and needs no database.")}},
            "post": {"operationId": "createJob", "summary": "Upload a video, or photos (one or many, or a ZIP); it becomes a queued job.",
                     "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": _upload_form()}}},
                     "responses": {
                         "202": _json("Accepted and queued.", "Created", headers={"Location": {
                             "description": "The job's API URL.", "schema": {"type": "string"}}}),
                         "400": _error("No video or image, a bad option (the message names it), or a missing CSRF token."),
                         "403": _CHANGE_REFUSED["403"],
                         "408": _error("The upload arrived too slowly (UPLOAD_READ_TIMEOUT_S)."),
                         "413": _error("Over the upload size limit (MAX_UPLOAD_MB) or a resource limit (MAX_IMAGES, a ZIP that inflates too far, ...); names it."),
                         "422": _error("Not a video that can be processed, or no usable photo (each named, with why); says why."),
                         "429": _error("This session has MAX_JOBS_PER_SESSION jobs queued or running already; says how many."),
                         "503": _unavailable("The job queue or the job database is unreachable, every upload slot is taken, "
                                             "or the server's storage is full (the message says which; Retry-After)."),
                     }},
        },
        "/api/jobs/{job_id}": {
            "parameters": [_ID],
            "get": {"operationId": "getJob", "summary": "A job's state, progress and, once done, its outputs.",
                    "responses": {"200": _json("The job.", "Job"), **_GONE, **_DATABASE_AWAY}},
            "delete": {"operationId": "deleteJob",
                       "summary": "Delete the job, its upload and its outputs (a running job is cancelled first).",
                       "responses": {"204": {"description": "Deleted; the id is a 404 from now on."},
                                     **_CHANGE_REFUSED, **_GONE, **_DATABASE_AWAY}},
        },
        "/api/jobs/{job_id}/cancel": {
            "parameters": [_ID],
            "post": {"operationId": "cancelJob", "summary": "Cancel a queued or running job.",
                     "responses": {"202": _json("Cancelled, or the running job's worker was asked to stop.", "Job"),
                                   **_CHANGE_REFUSED, **_GONE, **_DATABASE_AWAY}},
        },
        "/api/jobs/{job_id}/screenshots": {
            "parameters": [_ID,
                           {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0,
                                                                        "maximum": MAX_SCREENSHOT_OFFSET, "default": 0}},
                           {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                       "maximum": MAX_SCREENSHOT_PAGE, "default": 100}}],
            "get": {"operationId": "listScreenshots", "summary": "A page of a succeeded job's screenshot URLs.",
                    "responses": {"200": _json("One page.", "ScreenshotPage"),
                                  "400": _error("offset or limit out of range (the message names it)."),
                                  "404": _error("No such job, or it has not succeeded."),
                                  "410": _GONE["410"], **_DATABASE_AWAY}},
        },
        "/api/jobs/{job_id}/people": {
            "parameters": [_ID],
            "get": {"operationId": "listPeople",
                    "summary": "Everyone tracked in a succeeded job: when each is seen, a summary per angle "
                               "(min, max, range, mean), thumbnails and download URLs.",
                    "responses": {"200": _json("The people.", "People"), **_GONE, **_DATABASE_AWAY}},
        },
        "/api/jobs/{job_id}/people/{track_id}": {
            "parameters": [_ID, {"name": "track_id", "in": "path", "required": True,
                                 "schema": {"type": "integer", "minimum": 1}}],
            "get": {"operationId": "getPerson",
                    "summary": "One person's angle series over time, raw and smoothed (degrees, null = missing).",
                    "responses": {"200": _json("The series.", "PersonSeries"), **_PARTIAL, **_NOT_MODIFIED,
                                  "404": _error("No such job, job not succeeded, or no such person."),
                                  "410": _GONE["410"], **_DATABASE_AWAY}},
        },
        "/api/jobs/{job_id}/people/{track_id}/reps": {
            "parameters": [_ID, {"name": "track_id", "in": "path", "required": True,
                                 "schema": {"type": "integer", "minimum": 1}},
                           {"name": "angle", "in": "query", "schema": {"type": "string"},
                            "description": "A joint angle (default: the automatic choice, the largest periodic range)."}],
            "get": {"operationId": "getPersonReps",
                    "summary": "One person's repetitions of an angle: start, end, min and max degrees, duration, tempo.",
                    "responses": {"200": _json("The repetitions.", "PersonReps"),
                                  "400": _error("Not a joint angle of this job (the message lists them)."),
                                  "404": _error("No such job, job not succeeded, or no such person."),
                                  "410": _GONE["410"], **_DATABASE_AWAY}},
        },
        "/api/jobs/{job_id}/people/{track_id}/report.pdf": {
            "parameters": [_ID, {"name": "track_id", "in": "path", "required": True,
                                 "schema": {"type": "integer", "minimum": 1}}],
            "get": {"operationId": "getPersonReport",
                    "summary": "One person's report (PDF): video details, thumbnail, facing over time, repetitions, "
                               "each angle's curve with its range of motion.",
                    "responses": {"200": {"description": "The PDF, as an attachment.",
                                          "content": {"application/pdf": {"schema": {"type": "string",
                                                                                     "format": "binary"}}}},
                                  "404": _error("No such job, job not succeeded, or no such person."),
                                  "410": _GONE["410"], **_DATABASE_AWAY}},
        },
        "/api/jobs/{job_id}/people/{track_id}/facing": {
            "parameters": [_ID, {"name": "track_id", "in": "path", "required": True,
                                 "schema": {"type": "integer", "minimum": 1}}],
            "post": {"operationId": "setPersonFacing",
                     "summary": "Set which way a person faces for their whole track (or auto); their angles and "
                                "every export holding them are derived again from their keypoints.",
                     "requestBody": {"required": True, "content": {
                         JSON: {"schema": {"type": "object", "required": ["facing"], "properties": {
                             "facing": {"enum": ["auto", "left", "right", "frontal", "back"]}}}},
                         "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
                             "facing": {"enum": ["auto", "left", "right", "frontal", "back"]}}}}}},
                     "responses": {"200": {"description": "The person's new entry of the people list.",
                                           "content": {JSON: {"schema": {"type": "object"}}}},
                                   **_CHANGE_REFUSED,
                                   "400": _error("A facing that is not one of the choices, or none; or the "
                                                 "session cookie without the CSRF token."),
                                   "404": _error("No such job, job not succeeded, or no such person."),
                                   "410": _GONE["410"], **_DATABASE_AWAY}},
        },
        "/api/openapi.json": {"get": {"operationId": "getOpenApi", "summary": "This document.",
                                      "responses": {"200": {"description": "OpenAPI 3.1",
                                                            "content": {JSON: {"schema": {"type": "object"}}}}}}},
        "/api/docs": {"get": {"operationId": "getApiDocs", "summary": "This document as a page.",
                              "responses": {"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}}}},
        "/jobs/{job_id}/files/{name}": {
            "parameters": [_ID, {"name": "name", "in": "path", "required": True, "schema": {"type": "string"},
                                 "description": "A path from the job's outputs, e.g. keypoints.csv or screenshots/poster.jpg."},
                           {"name": "download", "in": "query", "schema": {"type": "string", "enum": ["1"]},
                            "description": "1: as an attachment (Content-Disposition)."}],
            "get": {"operationId": "getOutputFile", "summary": "One output file; Range requests are answered with 206.",
                    "responses": {"200": {"description": "The file.", "content": {"*/*": {"schema": {"type": "string"}}}},
                                  **_PARTIAL, **_NOT_MODIFIED,
                                  "404": _error("No such job or file.", "text/html"),
                                  "410": _error("The job expired.", "text/html"), **_DATABASE_AWAY_HTML}},
        },
        "/jobs/{job_id}/download.zip": {
            "parameters": [_ID],
            "get": {"operationId": "downloadAll", "summary": "Every output of a succeeded job as one ZIP; "
                                                             "Range requests are answered with 206.",
                    "responses": {"200": {"description": "ZIP", "content": {"application/zip": {"schema": {"type": "string"}}}},
                                  **_PARTIAL, **_NOT_MODIFIED,
                                  "404": _error("No such job, it has not succeeded, or it was deleted while its ZIP "
                                                "was made.", "text/html"),
                                  "410": _error("The job expired.", "text/html"),
                                  "503": _unavailable("The job database is unreachable, or the server's storage is "
                                                      "full so the ZIP could not be built (the page says which; "
                                                      "Retry-After).", "text/html")}},
        },
        "/api/live/status": {
            "get": {"operationId": "getLiveStatus",
                    "summary": "The live server's models (with their skeletons) and its sessions (open, limit).",
                    "responses": {"200": _json("The live server answers.", "LiveStatus"), "503": _LIVE_DOWN}},
        },
        "/api/live/sessions": {
            "post": {"operationId": "createLiveSession",
                     "summary": "Start a live session (one per camera; its own tracker, IDs from 1). "
                                "Sessions end when deleted or after LIVE_IDLE_TIMEOUT_S without a frame.",
                     "requestBody": {"required": False, "content": {JSON: {"schema": {
                         "type": "object", "properties": {"model": {
                             "type": "string", "enum": list(LIVE_MODELS),
                             "description": "One of GET /api/live/status's models (default: its first); the "
                                            "server loads those of LIVE_MODELS."}}}}}},
                     "responses": {"201": _json("Started.", "LiveSession"),
                                   "400": _error("A model the live server has not loaded, a body that is not JSON, "
                                                 "or a missing CSRF token."),
                                   "403": _CHANGE_REFUSED["403"],
                                   "413": _error("A body over 1 MiB."),
                                   "503": _error("Every live session is in use (LIVE_SESSIONS; Retry-After), "
                                                 "or the live server is down or turned off.")}},
        },
        "/api/live/sessions/{session_id}/frames": {
            "parameters": [_LIVE_ID],
            "post": {"operationId": "sendLiveFrame",
                     "summary": "One camera frame (a JPEG, as the body) -> the people in it, in its pixels, with "
                                "track IDs. Send the next frame only after the answer (one in flight).",
                     "requestBody": {"required": True, "content": {"image/jpeg": {"schema": {
                         "type": "string", "contentMediaType": "image/jpeg"}}}},
                     "responses": {"200": _json("The people in the frame.", "LiveFrame"),
                                   "400": _error("Not a JPEG, empty or damaged (says which), or a missing CSRF token."),
                                   "403": _CHANGE_REFUSED["403"],
                                   "404": _error("No such session: it ended (deleted, or silent too long); start a new one."),
                                   "409": _error("The session's previous frame is still being answered."),
                                   "413": _error("Over LIVE_MAX_FRAME_KB bytes, LIVE_MAX_FRAME_PIXELS pixels or 100 "
                                                 "scans; names it."),
                                   "503": _LIVE_DOWN}},
        },
        "/api/live/sessions/{session_id}": {
            "parameters": [_LIVE_ID],
            "delete": {"operationId": "deleteLiveSession", "summary": "End a live session now; its slot is free at once.",
                       "responses": {"204": {"description": "Ended."}, **_CHANGE_REFUSED,
                                     "404": _error("No such session (it ended already)."), "503": _LIVE_DOWN}},
        },
        "/livez": {"get": {"operationId": "livez", "summary": "The web process answers.",
                           "responses": {"200": _json("Alive.", "Live")}}},
        "/readyz": {"get": {"operationId": "readyz", "summary": "The database takes a write, the broker and the folders work.",
                            "responses": {"200": _json("Ready.", "Ready"),
                                          "503": _json("Not ready; reason says what is away.", "Ready")}}},
        "/metrics": {"get": {"operationId": "metrics",
                             "summary": "Prometheus metrics; admin credentials unless METRICS_PUBLIC.",
                             "responses": {"200": {"description": "Prometheus text format 0.0.4.",
                                                   "content": {"text/plain": {"schema": {"type": "string"}}}},
                                           "401": _error("ADMIN_PASSWORD is set and was not sent (HTTP Basic).", "text/plain"),
                                           "403": _error("Not from this machine, and no ADMIN_PASSWORD is set.", "text/html"),
                                           **_DATABASE_AWAY_HTML}}},
    }


_NETWORK_INPUT = {
    "type": "object", "additionalProperties": False, "required": ["width", "height"],
    "description": "The network input used. auto: present when net_height was \"auto\": what the sampled "
                   "frames showed (median_person_px: the people's median height at 368, null if none). "
                   "scales and flip: present for a quality of several passes (fast, accurate): every "
                   "scale's input (width and height above are scale 1) and whether each also ran mirrored.",
    "properties": {"width": {"type": "integer"}, "height": {"type": "integer"},
                   "scales": {"type": "array", "items": {
                       "type": "object", "additionalProperties": False, "required": ["width", "height"],
                       "properties": {"width": {"type": "integer"}, "height": {"type": "integer"}}}},
                   "flip": {"type": "boolean"}, "auto": {
        "type": "object", "additionalProperties": False,
        "required": ["net_height", "sampled_frames", "people", "median_person_px"],
        "properties": {"net_height": {"type": "integer"}, "sampled_frames": {"type": "integer"},
                       "people": {"type": "integer"}, "median_person_px": _NULLABLE_NUMBER}}}}


def _schemas() -> dict[str, Any]:
    urls = {"type": "object", "additionalProperties": False,
            "description": "URLs of a succeeded job's files. openpose_zip is absent for a model whose skeleton is "
                           "not OpenPose's 18 parts (BlazePose): keypoints.json's exports.not_produced says why.",
            "properties": {**{k: {"type": "string"} for k in (
                "video", "keypoints_json", "csv", "openpose_zip", "mot", "zip", "screenshots_url",
                "angles_csv", "people", "reps_csv")},
                "poster": _NULLABLE_STRING,
                "screenshots": {"type": "array", "items": {"type": "string"}, "description": "The first 60."},
                "screenshot_count": {"type": "integer"}},
            "required": ["keypoints_json", "csv", "mot", "zip", "screenshots",
                         "screenshot_count", "screenshots_url", "poster"]}
    image_urls = {"type": "object", "additionalProperties": False,
                  "description": "URLs of a succeeded image job's files.",
                  "properties": {**{k: {"type": "string"} for k in (
                      "keypoints_json", "csv", "openpose_zip", "angles_csv", "zip")},
                      "poster": {**_NULLABLE_STRING, "description": "The first annotated photo."},
                      "images": {"type": "array", "items": _NULLABLE_STRING,
                                 "description": "The annotated photos in upload order; null for one that could "
                                                "not be read (the job's warnings say why) or with keypoints_only."}},
                  "required": ["keypoints_json", "csv", "angles_csv", "zip", "images"]}
    image_summary = {"type": "object", "additionalProperties": False,
                     "required": ["images", "images_failed", "people"], "properties": {
                         "images": _NULLABLE_INTEGER, "images_failed": _NULLABLE_INTEGER,
                         "people": _NULLABLE_INTEGER, "detections": _NULLABLE_INTEGER,
                         "processing_s": _NULLABLE_NUMBER, "images_per_s": _NULLABLE_NUMBER}}
    multiview_urls = {"type": "object", "additionalProperties": False,
                      "description": "URLs of a succeeded multi-view job's files (docs/multiview.md).",
                      "properties": {**{k: {"type": "string"} for k in (
                          "summary", "calibration", "keypoints_3d_csv", "angles_3d_csv", "zip", "scene")},
                          "poster": {**_NULLABLE_STRING, "description": "The first view's overlay."},
                          "trc": {"type": "array", "items": {"type": "string"}, "description": "One per person."},
                          "mot": {"type": "array", "items": {"type": "string"}, "description": "One per person."},
                          "views": {"type": "object", "description": "Per camera: its video's name and its 2D "
                                    "outputs' URLs by file name.", "additionalProperties": {
                              "type": "object", "additionalProperties": False, "required": ["video", "overlay", "files"],
                              "properties": {"video": {"type": "string"}, "overlay": {
                                  **_NULLABLE_STRING, "description": "A frame of this view with every 3D skeleton "
                                  "projected into it (the same moment in every view)."}, "moments": {
                                  "type": "array", "description": "The same drawn at several time-line frames, "
                                  "in order (the page's grid follows the 3D scene with them).", "items": {
                                      "type": "object", "additionalProperties": False, "required": ["frame", "url"],
                                      "properties": {"frame": {"type": "integer"}, "url": {"type": "string"}}}},
                                  "files": {
                                  "type": "object", "additionalProperties": {"type": "string"}}}}}},
                      "required": ["summary", "calibration", "keypoints_3d_csv", "zip", "trc", "views"]}
    multiview_summary = {"type": "object", "additionalProperties": False,
                         "required": ["views", "frames", "people", "cameras"], "properties": {
                             "views": _NULLABLE_INTEGER, "frames": _NULLABLE_INTEGER, "people": _NULLABLE_INTEGER,
                             "processing_s": _NULLABLE_NUMBER, "cameras": {"type": "array", "items": {
                                 "type": "object", "required": ["name", "video", "reprojection_px", "offset"],
                                 "properties": {"name": {"type": "string"}, "video": {"type": "string"},
                                                "reprojection_px": {"type": "object"},
                                                "offset": {"type": "object"}}}}}}
    summary = {"type": "object", "additionalProperties": False, "properties": {
        "frames": _NULLABLE_INTEGER, "people": _NULLABLE_INTEGER, "detections": _NULLABLE_INTEGER,
        "processing_s": _NULLABLE_NUMBER, "fps": _NULLABLE_NUMBER,
        "network_input": {"oneOf": [{"type": "null"}, _NETWORK_INPUT]}}}
    job = {"type": "object", "additionalProperties": False, "properties": {
        "id": {"type": "string"}, "url": {"type": "string"},
        "state": {"enum": ["queued", "running", "succeeded", "failed", "cancelled"]},
        "stage": _NULLABLE_STRING, "progress": {"type": "number", "minimum": 0, "maximum": 1},
        "fps": _NULLABLE_NUMBER, "eta_s": _NULLABLE_NUMBER, "frames_done": {"type": "integer"},
        "frames_total": _NULLABLE_INTEGER, "error": _NULLABLE_STRING, "source_name": {"type": "string"},
        "kind": {"enum": ["video", "images", "multiview"], "description": (
            "What the input is: one video, photos (frames_done / frames_total count photos), or several views.")},
        "cancel_requested": {"type": "boolean"}, "stalled": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"}, "started_at": _TIME, "finished_at": _TIME,
        "expires_at": {**_TIME, "description": "When the retention sweep deletes it (null: running, or kept)."},
        "upload_kept": {"type": "boolean", "description": "Whether the uploaded video is still stored."},
        "options": {"$ref": "#/components/schemas/Options"},
        "outputs": {"oneOf": [{"type": "null"}, urls, image_urls, multiview_urls]},
        "summary": {"oneOf": [{"type": "null"}, summary, image_summary, multiview_summary]},
        "warnings": {"type": "array", "items": {"type": "string"}}}}
    job["required"] = sorted(job["properties"])
    checks = {"type": "object", "additionalProperties": False, "required": ["database", "broker", "storage"],
              "properties": {"database": {"type": "string"}, "broker": {"type": "string"},
                             "storage": {"type": "string"}}}
    return {
        "Error": {"type": "object", "additionalProperties": False, "required": ["error", "status"],
                  "properties": {"error": {"type": "string"}, "status": {"type": "integer"}}},
        "Options": options_schema(),
        "Job": job,
        "JobList": {"type": "object", "additionalProperties": False, "required": ["jobs"],
                    "properties": {"jobs": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}}}},
        "Created": {"type": "object", "additionalProperties": False, "required": ["id", "url", "api_url"],
                    "properties": {"id": {"type": "string"}, "url": {"type": "string"}, "api_url": {"type": "string"}}},
        "ScreenshotPage": {"type": "object", "additionalProperties": False,
                           "required": ["total", "offset", "limit", "screenshots", "next"],
                           "properties": {"total": {"type": "integer"}, "offset": {"type": "integer"},
                                          "limit": {"type": "integer"},
                                          "screenshots": {"type": "array", "items": {"type": "string"}},
                                          "next": _NULLABLE_STRING}},
        "People": {"type": "object", "required": ["count", "people"],
                   "properties": {"count": {"type": "integer"}, "fps": {"type": "number"},
                                  "skeleton": {"type": "object", "description": "The model's skeleton.",
                                               "properties": {"name": {"enum": list(SKELETONS)},
                                                              "has_world": {"type": "boolean"}}},
                                  "angles": {"type": "array", "items": {
                                      "type": "object", "required": ["name", "label", "kind", "zero", "positive"],
                                      "properties": {"name": {"type": "string"}, "label": {"type": "string"},
                                                     "kind": {"enum": ["joint", "segment"]},
                                                     "zero": {"type": "string"}, "positive": {"type": "string"},
                                                     "range": {"type": "array", "items": {"type": "number"}}}}},
                                  "people": {"type": "array", "items": {
                                      "type": "object", "required": ["id", "frames", "first_s", "last_s", "angles"],
                                      "properties": {"id": {"type": "integer"}, "frames": {"type": "integer"},
                                                     "first_s": {"type": "number"}, "last_s": {"type": "number"},
                                                     "angles": {"type": "object", "additionalProperties": {
                                                         "type": "object"}}}}}}},
        "PersonSeries": {"type": "object", "required": ["id", "time_s", "angles"],
                         "properties": {"id": {"type": "integer"}, "start_s": {"type": "number"},
                                        "time_s": {"type": "array", "items": {"type": "number"}},
                                        "world": {"type": "array", "description": (
                                            "Skeletons with world coordinates (BlazePose) only: per frame the K "
                                            "parts' x, y, z in metres, flat (hip-centred; x right, y down, z away "
                                            "from the camera), or null."),
                                            "items": {"type": ["array", "null"], "items": {"type": "number"}}},
                                        "angles": {"type": "object", "additionalProperties": {
                                            "type": "object", "properties": {
                                                "smoothed": {"type": "array", "items": {"type": ["number", "null"]}},
                                                "raw": {"type": "array", "items": {"type": ["number", "null"]}}}}}}},
        "PersonReps": {"type": "object", "required": ["id", "angle", "automatic", "reps", "available"],
                       "properties": {"id": {"type": "integer"}, "angle": _NULLABLE_STRING,
                                      "automatic": _NULLABLE_STRING,
                                      "available": {"type": "array", "items": {"type": "string"}},
                                      "reps": {"type": "array", "items": {"type": "object", "properties": {
                                          k: {"type": "number"} for k in (
                                              "rep", "start_s", "end_s", "turn_s", "min_degrees", "max_degrees",
                                              "range_degrees", "duration_s", "out_s", "hold_s", "back_s",
                                              "start_frame", "end_frame")} | {"tempo": {"type": "string"}}}}}},
        **_live_schemas(),
        "Live": {"type": "object", "additionalProperties": False, "required": ["status"],
                 "properties": {"status": {"const": "ok"}}},
        "Ready": {"type": "object", "additionalProperties": False, "required": ["status", "checks"],
                  "properties": {"status": {"enum": ["ready", "unavailable"]}, "checks": checks,
                                 "reason": {"type": "string"}}},
    }


def _live_schemas() -> dict[str, Any]:
    skeleton = {"type": "object", "additionalProperties": False, "required": ["name", "parts", "limbs"],
                "properties": {"name": {"type": "string"}, "parts": {"type": "array", "items": {"type": "string"}},
                               "limbs": {"$ref": "#/components/schemas/LiveLimbs"}}}
    limits = {"max_frame_bytes": {"type": "integer"}, "max_frame_pixels": {"type": "integer"},
              "idle_timeout_s": {"type": "number", "description": "A session without a frame this long ends."}}
    person = {"type": "object", "additionalProperties": False, "required": ["id", "score", "keypoints"],
              "properties": {"id": {**_NULLABLE_INTEGER, "description": "Track ID, from 1 per session; "
                                                                        "null until the track is confirmed."},
                             "score": {"type": "number"},
                             "keypoints": {"type": "array", "description": "One [x, y, confidence] per part of the "
                                           "skeleton, in the sent frame's pixels; [0, 0, 0] where not found.",
                                           "items": {"type": "array", "items": {"type": "number"},
                                                     "minItems": 3, "maxItems": 3}}}}
    return {
        "LiveLimbs": {"type": "array", "description": "Pairs of part indexes to join.",
                      "items": {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2, "maxItems": 2}},
        "LiveStatus": {"type": "object", "additionalProperties": False,
                       "required": ["status", "models", "default_model", "sessions", *limits],
                       "properties": {"status": {"const": "ok"}, **limits, "default_model": {"type": "string"},
                                      "models": {"type": "array", "items": {
                                          "type": "object", "additionalProperties": False,
                                          "required": ["name", "label", "skeleton"],
                                          "properties": {"name": {"type": "string"}, "label": {"type": "string"},
                                                         "skeleton": skeleton}}},
                                      "sessions": {"type": "object", "additionalProperties": False,
                                                   "required": ["open", "answering", "limit"],
                                                   "properties": {k: {"type": "integer"} for k in
                                                                  ("open", "answering", "limit")}}}},
        "LiveSession": {"type": "object", "additionalProperties": False,
                        "required": ["id", "model", "skeleton", *limits],
                        "properties": {"id": {"type": "string"}, "model": {"type": "string"},
                                       "skeleton": skeleton, **limits}},
        "LiveFrame": {"type": "object", "additionalProperties": False,
                      "required": ["frame", "width", "height", "people", "limbs", "wait_ms", "inference_ms", "server_ms"],
                      "properties": {"frame": {"type": "integer", "description": "Frames this session sent, this one included."},
                                     "width": {"type": "integer"}, "height": {"type": "integer"},
                                     "people": {"type": "array", "items": person},
                                     "limbs": {"$ref": "#/components/schemas/LiveLimbs"},
                                     "wait_ms": {"type": "number", "description": "Waiting for other sessions' frames."},
                                     "inference_ms": {"type": "number", "description": "Decoding the frame and finding "
                                                                                       "its people."},
                                     "server_ms": {"type": "number", "description": "In the live server, all told."}}},
    }


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Pose Studio", "version": "1",
                 "description": "Upload videos, follow their jobs, fetch the skeletons. Scripts need no "
                                "cookie: whoever holds a job's id may read, cancel and delete it."},
        "paths": {path: {method: ({**op, "responses": {**op["responses"], **_SERVER_LIMITS}}
                                  if method != "parameters" else op) for method, op in item.items()}
                  for path, item in _paths().items()},
        "components": {"schemas": _schemas()},
    }

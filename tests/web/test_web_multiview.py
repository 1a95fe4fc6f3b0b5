"""Multi-view jobs through the API: Pose2Sim's four real views and their Qualisys calibration
uploaded as ``video`` fields and a ``calibration``, run by the real task body with the real model
(in this process, no broker: the queue is not what is under test), outputs served and checked
against the OpenAPI document; and every bad input: a 4xx naming the file, nothing left behind."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from jobs import JobStore
from test_web_openapi import Contract
from web_helpers import app_and_task, csrf_of

CAMERAS = ("cam01.mp4", "cam02.mp4", "cam03.mp4", "cam04.mp4")
J, ONE = "/api/jobs", "/api/jobs/{job_id}"
#: Small and short: 0.6 s (36 frames, enough for the offsets' estimate) at a small network size.
FAST = {"net_height": "184", "end_s": "0.6", "keypoints_only": "true"}


@pytest.fixture
def env(tmp_path: Path, model_path: Path):
    yield app_and_task(tmp_path, max_upload_bytes=64 * 1024**2, model_path=model_path)


@pytest.fixture(scope="module")
def demo(shared_data: Path) -> dict[str, bytes]:
    folder = shared_data / "multiview" / "pose2sim_single"
    return {name: (folder / name).read_bytes() for name in (*CAMERAS, "Calib.qca.txt")}


def _form(demo: dict[str, bytes], videos=CAMERAS, calibration: tuple[str, bytes] | None = None, **extra):
    form = {"video": [(io.BytesIO(demo[v] if v in demo else b""), v) for v in videos], **FAST, **extra}
    calib = calibration if calibration is not None else ("Calib.qca.txt", demo["Calib.qca.txt"])
    if calib:
        form["calibration"] = (io.BytesIO(calib[1]), calib[0])
    return form


def _left(settings) -> list[Path]:
    return [p for p in Path(settings.uploads_dir).rglob("*") if p.is_file()]


@pytest.mark.model
@pytest.mark.timeout(300)
def test_four_views_become_one_job_with_every_3d_output(env, demo, monkeypatch) -> None:
    app, settings, store, task = env
    client = app.test_client()
    c = Contract(client.get("/api/openapi.json").get_json())
    created = c.check(client.post(J, data=_form(demo)), J, "post", 202)
    queued = c.check(client.get(created["api_url"]), ONE, "get", 200)
    assert queued["kind"] == "multiview" and queued["source_name"].startswith("4 views") and queued["upload_kept"]
    job = store.get(created["id"])
    assert [v["name"] for v in job.source_meta["views"]] == list(CAMERAS)
    stages = []
    original = JobStore.update_progress

    def spy(self, job_id, **values):  # the task's own store records every stage it reports
        stages.append(values.get("stage"))
        return original(self, job_id, **values)
    monkeypatch.setattr(JobStore, "update_progress", spy)
    assert task(job.id) == "succeeded", store.get(job.id).error
    assert any(s.startswith("view 1/4:") for s in stages) and any(s.startswith("view 4/4:") for s in stages)
    assert "fusion" in stages, stages
    body = c.check(client.get(created["api_url"]), ONE, "get", 200)
    assert body["state"] == "succeeded" and body["summary"]["views"] == 4 and body["summary"]["people"] >= 1
    assert [cam["name"] for cam in body["summary"]["cameras"]] == ["cam01", "cam02", "cam03", "cam04"]
    errors = [cam["reprojection_px"]["median"] for cam in body["summary"]["cameras"]]
    assert all(e is not None and e < 30 for e in errors), errors
    out = body["outputs"]
    rows = list(csv.DictReader(io.StringIO(client.get(out["keypoints_3d_csv"]).get_data(as_text=True))))
    assert rows and {"x_m", "y_m", "z_m", "reprojection_px", "views"} <= set(rows[0])
    assert out["trc"] and client.get(out["trc"][0]).get_data(as_text=True).startswith("PathFileType")
    assert "angles_3d_csv" in out and client.get(out["calibration"]).get_data(as_text=True).count("[cam0") == 4
    summary = client.get(out["summary"]).get_json()
    assert len(summary["cameras"]) == 4 and summary["people"]
    assert sorted(out["views"]) == ["cam01", "cam02", "cam03", "cam04"]
    cam1 = out["views"]["cam01"]
    assert cam1["video"] == "cam01.mp4" and client.get(cam1["files"]["keypoints.csv"]).status_code == 200
    import cv2
    import numpy as np
    for camera, view in out["views"].items():
        shown = cv2.imdecode(np.frombuffer(client.get(view["overlay"]).data, np.uint8), cv2.IMREAD_COLOR)
        assert shown is not None and shown.shape[1] == 540 and shown.shape[0] > 900, camera  # portrait views
        frames = [m["frame"] for m in view["moments"]]
        assert len(frames) >= 4 and frames == sorted(frames), camera
        assert all(client.get(m["url"]).status_code == 200 for m in view["moments"])
    scene = client.get(out["scene"]).get_json()
    assert scene["parts"] == summary["part_names"] and scene["limbs"] and len(scene["frames"]) == summary["frames"]
    assert any(person["points"] for frame in scene["frames"] for person in frame)
    angle_rows = list(csv.DictReader(io.StringIO(client.get(out["angles_3d_csv"]).get_data(as_text=True))))
    curves = {(c["person"], name): values for c in scene["angles"]["people"] for name, values in c["degrees"].items()}
    assert angle_rows and len(curves) == len({(int(r["person"]), r["angle"]) for r in angle_rows})
    for r in angle_rows[:: max(1, len(angle_rows) // 50)]:  # the page's curves are the CSV's values
        assert curves[int(r["person"]), r["angle"]][int(r["frame"])] == pytest.approx(float(r["degrees"]), abs=0.051)
    assert {a["name"] for a in scene["angles"]["names"]} == {r["angle"] for r in angle_rows}
    download = client.get(out["trc"][0] + "?download=1")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]


BAD = {
    "nine videos": (dict(videos=tuple(f"cam{i:02d}.mp4" for i in range(1, 10))), 400, "9 video(s)"),
    "one video with a calibration": (dict(videos=("cam01.mp4",)), 400, "1 video(s)"),
    "no calibration": (dict(calibration=("", b"")), 400, "No calibration"),
    "unknown calibration format": (dict(calibration=("cams.yaml", b"cameras: [1, 2]\n")), 422, "cams.yaml"),
    "a camera missing": (dict(videos=("cam01.mp4", "cam02.mp4", "cam07.mp4")), 422, "cam07.mp4"),
    "a start": (dict(start_s="0.5"), 400, "start_s"),
    "offsets not numbers": (dict(offsets="0,0,twelve,0"), 400, "whole numbers"),
    "offsets of the wrong count": (dict(offsets="0,0,12"), 400, "3 offsets for 4 videos"),
    "an unreadable video": (dict(videos=("cam01.mp4", "cam02.mp4", "cam03.mp4", "broken.mp4")), 422, "broken.mp4"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_a_4xx_naming_the_file_and_leaves_nothing(env, demo, case) -> None:
    app, settings, store, _ = env
    client = app.test_client()
    c = Contract(client.get("/api/openapi.json").get_json())
    form_args, status, named = BAD[case]
    data = dict(demo)
    data["cam07.mp4"] = demo["cam01.mp4"]
    data["broken.mp4"] = b"\x00\x00\x00\x18ftypmp42 not really a video"
    for i in range(5, 10):
        data[f"cam{i:02d}.mp4"] = demo["cam01.mp4"]
    body = c.check(client.post(J, data=_form(data, **form_args)), J, "post", status)
    assert named in body["error"], body
    assert "Traceback" not in body["error"] and "/uploads/" not in body["error"]
    assert not any(f"{stored} is" in body["error"] or f"{stored}:" in body["error"]
                   for stored in ("01", "02", "03", "04", "calibration")), body  # the stored names are not shown
    assert _left(settings) == [] and store.list_jobs() == []


def test_the_upload_form_without_javascript_makes_one_multiview_job(env, demo) -> None:
    app, settings, store, _ = env
    client = app.test_client()
    assert client.get("/").status_code == 200  # the session cookie, as a browser has it
    response = client.post("/", data={
        "csrf_token": csrf_of(client), "view": [(io.BytesIO(demo[v]), v) for v in CAMERAS],
        "calibration": (io.BytesIO(demo["Calib.qca.txt"]), "Calib.qca.txt")}, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    (job,) = store.list_jobs()
    assert job.kind == "multiview" and response.headers["Location"].endswith(f"/jobs/{job.id}")
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "4 views: cam01.mp4" in page
    # Without the calibration: the upload page again, saying what is missing; nothing kept.
    response = client.post("/", data={"csrf_token": csrf_of(client),
                                      "view": [(io.BytesIO(demo[v]), v) for v in CAMERAS[:2]]},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "No calibration" in response.get_data(as_text=True)
    assert [j.id for j in store.list_jobs()] == [job.id]


@pytest.mark.model
def test_views_too_short_to_match_fail_the_job_with_the_reason(env, demo) -> None:
    app, settings, store, task = env
    client = app.test_client()
    c = Contract(client.get("/api/openapi.json").get_json())
    created = c.check(client.post(J, data=_form(demo, videos=CAMERAS[:2], end_s="0.1")), J, "post", 202)
    assert task(created["id"]) == "failed"
    body = c.check(client.get(created["api_url"]), ONE, "get", 200)
    assert body["outputs"] is None and body["error"] and "internal error" not in body["error"], body["error"]
    assert not (Path(settings.outputs_dir) / created["id"]).exists()


@pytest.mark.model
def test_given_offsets_are_used_and_reported(env, demo) -> None:
    app, settings, store, task = env
    client = app.test_client()
    c = Contract(client.get("/api/openapi.json").get_json())
    created = c.check(client.post(J, data=_form(demo, offsets="2, 2, 2,-1")), J, "post", 202)
    assert store.get(created["id"]).source_meta["offsets"] == [2, 2, 2, -1]
    assert task(created["id"]) == "succeeded", store.get(created["id"]).error
    body = c.check(client.get(created["api_url"]), ONE, "get", 200)
    assert [cam["offset"]["offset_frames"] for cam in body["summary"]["cameras"]] == [0, 0, 0, -3]  # relative to the first
    assert not any(cam["offset"]["estimated"] for cam in body["summary"]["cameras"])

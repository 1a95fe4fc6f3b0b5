"""GET /api/jobs/<id>/people and /people/<track id>: what a finished job says about its people,
thumbnails cropped from screenshots, the person's series and files, and the 404s with reasons."""
from __future__ import annotations

import io
import zipfile
from typing import Callable

import pytest
from flask import Flask

from config import Settings
from jobs import Job, JobStore
from people_job import knee_at, make_people_job


@pytest.fixture
def people_job(store: JobStore, settings: Settings) -> Job:
    return make_people_job(store, settings)


def test_the_people_list(app: Flask, people_job: Job) -> None:
    body = app.test_client().get(f"/api/jobs/{people_job.id}/people").get_json()
    assert body["count"] == 2 and [p["id"] for p in body["people"]] == [1, 2]
    assert body["fps"] == 30.0 and body["start_s"] == 0.0 and body["video"] == {"width": 640, "height": 360}
    assert body["angles"][0] == {"name": "right_knee", "label": "Right knee", "kind": "joint", "zero": "straight leg",
                                 "positive": "flexion; negative = hyperextension", "range": [-180.0, 180.0]}
    assert "heel" in body["unavailable"]["left_ankle"]
    one, two = body["people"]
    assert one["frames"] == 90 and one["first_s"] == 0.0 and one["last_s"] == pytest.approx(89 / 30, abs=1e-4)
    assert two["spans"] == [[1.0, 2.5]]
    knee = one["angles"]["right_knee"]
    assert knee["min"] == pytest.approx(10.0, abs=0.5) and knee["max"] == pytest.approx(70.0, abs=0.5)  # 30 fps samples
    assert knee["range"] == pytest.approx(60.0, abs=1.0) and knee["mean"] == pytest.approx(40.0, abs=0.5)
    assert two["angles"]["right_elbow"]["min"] == pytest.approx(90.0, abs=0.01)
    base = f"/jobs/{people_job.id}/files/"
    assert one["series_url"] == f"/api/jobs/{people_job.id}/people/1"
    assert one["downloads"] == {"csv": base + "people/person_1_angles.csv?download=1",
                                "mot": base + "people/person_1_angles.mot?download=1",
                                "trc": base + "people/person_1_keypoints.trc?download=1",
                                "report": f"/api/jobs/{people_job.id}/people/1/report.pdf"}
    assert "boxes" not in one and "files" not in one  # the worker's internals stay out
    assert len(one["pose"]["keypoints"]) == 18 and body["parts"][1] == "neck"


def test_thumbnails_come_from_the_screenshot_where_the_person_is_largest(app: Flask, people_job: Job) -> None:
    one, two = app.test_client().get(f"/api/jobs/{people_job.id}/people").get_json()["people"]
    base = f"/jobs/{people_job.id}/files/screenshots/"
    # Person 2 is seen from 1.0 to 2.5 s; screenshots are at 0, 1 and 2 s: not the one at 0.
    assert two["thumbnail"]["url"] in (base + "t0000001.000s.jpg", base + "t0000002.000s.jpg")
    x1, y1, x2, y2 = two["thumbnail"]["box"]
    assert 440 < x1 < x2 < 560 and y1 < 100  # around the skeleton standing at x = 520
    assert one["thumbnail"]["url"].startswith(base)


def test_a_person_seen_between_screenshots_has_no_thumbnail(app: Flask, store: JobStore,
                                                           settings: Settings) -> None:
    job = make_people_job(store, settings, shot_times=(0.0,))  # person 2 comes at 1.0 s
    people = app.test_client().get(f"/api/jobs/{job.id}/people").get_json()["people"]
    assert people[0]["thumbnail"] is not None and people[1]["thumbnail"] is None


def test_a_person_series_raw_and_smoothed(app: Flask, people_job: Job) -> None:
    client = app.test_client()
    response = client.get(f"/api/jobs/{people_job.id}/people/1")
    assert response.status_code == 200 and response.mimetype == "application/json"
    series = response.get_json()
    assert series["id"] == 1 and len(series["time_s"]) == 90 and series["frame"][:3] == [0, 1, 2]
    knee = series["angles"]["right_knee"]
    assert knee["smoothed"][15] == pytest.approx(knee_at(0.5), abs=0.05)
    assert knee["raw"][15] == pytest.approx(knee_at(0.5), abs=0.05)
    assert set(series["swapped"]) == {"arms", "legs"} and len(series["facing"]) == 90


def test_the_person_files_download(app: Flask, people_job: Job) -> None:
    client = app.test_client()
    one = client.get(f"/api/jobs/{people_job.id}/people").get_json()["people"][0]
    mot = client.get(one["downloads"]["mot"])
    assert mot.status_code == 200 and mot.mimetype == "text/plain"
    assert mot.headers["Content-Disposition"].startswith("attachment; filename=person_1_angles.mot")
    assert mot.get_data(as_text=True).startswith("person_1_angles\nversion=1\n")
    trc = client.get(one["downloads"]["trc"])
    assert trc.mimetype == "text/plain" and trc.get_data(as_text=True).startswith("PathFileType\t4\t(X/Y/Z)")
    assert client.get(one["downloads"]["csv"]).mimetype == "text/csv"


def test_the_job_lists_the_angles_csv_and_the_zip_holds_every_person_file(app: Flask, people_job: Job) -> None:
    client = app.test_client()
    outputs = client.get(f"/api/jobs/{people_job.id}").get_json()["outputs"]
    assert outputs["angles_csv"] == f"/jobs/{people_job.id}/files/angles.csv"
    assert outputs["people"] == f"/jobs/{people_job.id}/files/people.json"
    with zipfile.ZipFile(io.BytesIO(client.get(outputs["zip"]).data)) as archive:
        names = set(archive.namelist())
    assert {"angles.csv", "people.json", "people/person_1.json", "people/person_1_angles.mot",
            "people/person_1_keypoints.trc", "people/person_2_angles.csv"} <= names


def test_the_404s_say_why(app: Flask, store: JobStore, people_job: Job, finished_job: Callable[..., Job]) -> None:
    client = app.test_client()
    missing = client.get(f"/api/jobs/{people_job.id}/people/7")
    assert missing.status_code == 404
    assert missing.get_json()["error"] == "There is no person with track ID 7 in this job."
    older = finished_job()  # finished before angles existed: no people.json
    response = client.get(f"/api/jobs/{older.id}/people")
    assert response.status_code == 404
    assert "processed before Pose Studio computed angles" in response.get_json()["error"]
    queued = store.create_job(source_name="x.mp4", options={}, owner=None, source_meta={})
    response = client.get(f"/api/jobs/{queued.id}/people/1")
    assert response.status_code == 404 and "has not finished" in response.get_json()["error"]
    assert client.get("/api/jobs/nope/people").status_code == 404


def test_setting_a_persons_facing_derives_their_angles_again(app: Flask, people_job: Job, settings: Settings) -> None:
    from jobs import output_dir

    client = app.test_client()
    out = output_dir(settings, people_job.id)
    before_csv = (out / "angles.csv").read_text()
    before_mot = (out / "people" / "person_2_angles.mot").read_text()
    assert ",2,right_elbow,90.00,0,90.00,0,left,0\n" in before_csv  # person 2 stands facing left
    # The user says person 2 faces right: not mirrored any more, the elbow reads -90.
    response = client.post(f"/api/jobs/{people_job.id}/people/2/facing", json={"facing": "right"})
    assert response.status_code == 200, response.get_json()
    two = response.get_json()
    assert two["id"] == 2 and two["facing_source"] == "override" and two["facing_override"] == "right"
    assert two["facing"] == {"left": 0, "right": 45, "frontal": 0, "back": 0}
    assert two["angles"]["right_elbow"]["min"] == pytest.approx(-90.0, abs=0.01)
    listed = client.get(f"/api/jobs/{people_job.id}/people").get_json()["people"]
    assert listed[1]["facing_override"] == "right" and listed[0]["facing_source"] == "auto"
    series = client.get(f"/api/jobs/{people_job.id}/people/2").get_json()
    assert set(series["facing"]) == {"right"} and set(series["angles"]["right_elbow"]["smoothed"]) == {-90.0}
    after_csv = (out / "angles.csv").read_text()
    assert ",2,right_elbow,-90.00,0,-90.00,0,right,0\n" in after_csv
    # Person 1's rows are untouched and the file is still ordered by track, then frame.
    assert [l for l in after_csv.splitlines() if ",1," in l] == [l for l in before_csv.splitlines() if ",1," in l]
    assert "-90.00" in (out / "people" / "person_2_angles.csv").read_text()
    assert (out / "people" / "person_2_angles.mot").read_text() != before_mot
    # Back to automatic: as the worker wrote it.
    assert client.post(f"/api/jobs/{people_job.id}/people/2/facing", data={"facing": "auto"}).status_code == 200
    assert (out / "angles.csv").read_text() == before_csv
    assert (out / "people" / "person_2_angles.mot").read_text() == before_mot


@pytest.mark.parametrize("body, status, message", [
    ({"facing": "sideways"}, 400, "facing must be one of auto, right, left, frontal, back"),
    ({}, 400, "Say which way the person faces"),
])
def test_a_bad_facing_is_refused_with_a_reason(app: Flask, people_job: Job, body: dict, status: int,
                                               message: str) -> None:
    response = app.test_client().post(f"/api/jobs/{people_job.id}/people/2/facing", json=body)
    assert response.status_code == status and message in response.get_json()["error"]
    missing = app.test_client().post(f"/api/jobs/{people_job.id}/people/7/facing", json={"facing": "left"})
    assert missing.status_code == 404 and "no person with track ID 7" in missing.get_json()["error"]


def test_repetitions_per_person_and_angle(app: Flask, people_job: Job) -> None:
    # Person 1's knees bend 40 +- 30 degrees twice a second for 3 s: from the first top (0.125 s)
    # five full bends down and back up, the sixth cut off by the end of the video.
    client = app.test_client()
    one, two = client.get(f"/api/jobs/{people_job.id}/people").get_json()["people"]
    assert one["reps"]["count"] == 5 and one["reps"]["angle"] in ("right_knee", "left_knee")
    assert two["reps"] == {"angle": None, "count": 0, "partial": 0}  # standing still
    body = client.get(f"/api/jobs/{people_job.id}/people/1/reps?angle=right_knee").get_json()
    assert body["angle"] == "right_knee" and len(body["reps"]) == 5 and "right_elbow" in body["available"]
    for k, rep in enumerate(body["reps"]):
        assert rep["rep"] == k + 1
        assert rep["start_s"] == pytest.approx(0.125 + 0.5 * k, abs=0.07)
        assert rep["end_s"] == pytest.approx(0.625 + 0.5 * k, abs=0.07)
        assert rep["min_degrees"] == pytest.approx(10, abs=2) and rep["max_degrees"] == pytest.approx(70, abs=2)
        assert rep["turn_s"] == pytest.approx(0.375 + 0.5 * k, abs=0.05)
    assert client.get(f"/api/jobs/{people_job.id}/people/1/reps?angle=right_elbow").get_json()["reps"] == []
    bad = client.get(f"/api/jobs/{people_job.id}/people/1/reps?angle=trunk")
    assert bad.status_code == 400 and "joint angles" in bad.get_json()["error"]
    outputs = client.get(f"/api/jobs/{people_job.id}").get_json()["outputs"]
    csv_text = client.get(outputs["reps_csv"]).get_data(as_text=True).splitlines()
    assert csv_text[0].startswith("track_id,angle,rep,start_s,end_s,min_degrees,max_degrees,")
    assert len(csv_text) == 6 and all(line.startswith("1,") for line in csv_text[1:])


def test_a_report_per_person(app: Flask, people_job: Job, settings: Settings, artifacts_dir) -> None:
    from jobs import output_dir

    client = app.test_client()
    response = client.get(f"/api/jobs/{people_job.id}/people/1/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"] and "person_1_report.pdf" in response.headers[
        "Content-Disposition"]
    pdf = response.data
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 1
    kept = output_dir(settings, people_job.id) / "people" / "person_1_report.pdf"
    assert kept.is_file()
    (artifacts_dir / "web").mkdir(exist_ok=True)
    (artifacts_dir / "web" / "19-person-report.pdf").write_bytes(pdf)
    # Kept, not made again; made again after the exports change (a facing override).
    made = kept.stat().st_mtime_ns
    assert client.get(f"/api/jobs/{people_job.id}/people/1/report.pdf").data == pdf
    assert kept.stat().st_mtime_ns == made
    assert client.post(f"/api/jobs/{people_job.id}/people/1/facing", json={"facing": "left"}).status_code == 200
    client.get(f"/api/jobs/{people_job.id}/people/1/report.pdf")
    assert kept.stat().st_mtime_ns > made
    missing = client.get(f"/api/jobs/{people_job.id}/people/9/report.pdf")
    assert missing.status_code == 404 and "no person with track ID 9" in missing.get_json()["error"]

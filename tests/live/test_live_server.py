"""The live server as a real process (``posestudio live``) with the real model, over HTTP: people
found and tracked in real frames, every kind of bad input refused with its status and a message,
the session limit, and clients that vanish (their slot freed, nothing left running)."""
from __future__ import annotations

import http.client
import json
import socket
import time
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
import pytest

from hostile_jpegs import claiming, repeated_scan
from live_process import LiveProcess, clip_frames

pytestmark = pytest.mark.model
CLIP = "sports2d_demo.mp4"  # 1768x994, 30 fps: one person jumps off a box, another walks past
IDLE_S = 1.5


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_path: Path) -> Iterator[LiveProcess]:
    log = tmp_path_factory.mktemp("live") / "live.log"
    with LiveProcess(log, model_path, LIVE_SESSIONS="2", LIVE_IDLE_TIMEOUT_S=str(IDLE_S),
                     LIVE_MAX_FRAME_KB="256", LIVE_MAX_FRAME_PIXELS=str(1280 * 720)) as live:
        yield live


@pytest.fixture(scope="module")
def frames(videos_dir: Path) -> list[bytes]:
    return clip_frames(videos_dir / CLIP, count=8, start=30)


def call(server: LiveProcess, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict | None, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else None), dict(response.getheaders())
    finally:
        conn.close()


def open_session(server: LiveProcess, model: str | None = "openpose") -> str:
    status, body, _ = call(server, "POST", "/sessions", json.dumps({"model": model}).encode())
    assert status == 201, body
    return body["id"]


def wait_until_no_sessions(server: LiveProcess, timeout_s: float = IDLE_S + 5) -> dict:
    deadline = time.monotonic() + timeout_s
    while (status := server.status())["sessions"]["open"]:
        assert time.monotonic() < deadline, status
        time.sleep(0.1)
    return status


def test_status_names_the_loaded_models_and_their_skeletons(server: LiveProcess) -> None:
    status = server.status()
    assert [m["name"] for m in status["models"]] == ["openpose", "blazepose"]
    assert status["default_model"] == "openpose"
    skeleton = status["models"][0]["skeleton"]
    assert len(skeleton["parts"]) == 18 and [1, 2] in skeleton["limbs"] and len(skeleton["limbs"]) == 17  # the limbs drawn (OPENPOSE_18.limbs)
    blazepose = status["models"][1]["skeleton"]
    assert len(blazepose["parts"]) == 33 and "left_heel" in blazepose["parts"]
    assert status["sessions"] == {"open": 0, "answering": 0, "limit": 2}


def test_people_in_real_frames_in_their_pixels_with_stable_track_ids(server: LiveProcess, frames) -> None:
    session = open_session(server)
    answers = []
    for data in frames:
        status, body, _ = call(server, "POST", f"/sessions/{session}/frames", data, {"Content-Type": "image/jpeg"})
        assert status == 200, body
        answers.append(body)
    height, width = cv2.imdecode(np.frombuffer(frames[0], np.uint8), cv2.IMREAD_COLOR).shape[:2]
    assert [a["frame"] for a in answers] == list(range(1, len(frames) + 1))
    for answer in answers:
        assert (answer["width"], answer["height"]) == (width, height)
        assert len(answer["limbs"]) == 17 and answer["inference_ms"] > 0
        assert len(answer["people"]) >= 1
        for person in answer["people"]:
            points = np.array(person["keypoints"])
            assert points.shape == (18, 3)
            seen = points[points[:, 2] > 0]
            assert len(seen) and (seen[:, 0] <= width).all() and (seen[:, 1] <= height).all() and (seen[:, :2] >= 0).all()
    # The jumper is in every frame: one track ID from the first answer to the last.
    first_ids = {p["id"] for p in answers[0]["people"]} - {None}
    assert first_ids, answers[0]
    for answer in answers[1:]:
        assert first_ids & {p["id"] for p in answer["people"]}, (first_ids, [p["id"] for p in answer["people"]])
    status, _, _ = call(server, "DELETE", f"/sessions/{session}")
    assert status == 204
    status, body, _ = call(server, "DELETE", f"/sessions/{session}")
    assert status == 404 and "ended" in body["error"]
    status, body, _ = call(server, "POST", f"/sessions/{session}/frames", frames[0])
    assert status == 404 and "start a new one" in body["error"]


def test_blazepose_sessions_get_its_33_parts_for_one_person(server: LiveProcess, videos_dir: Path) -> None:
    """BlazePose looks at each live frame on its own: a person in front of the camera, as on a
    webcam (Pose2Sim's subject, the whole height of a portrait frame)."""
    pytest.importorskip("mediapipe", reason="BlazePose needs mediapipe (make setup installs it)")
    frames = clip_frames(videos_dir / "pose2sim_trial1_cam01.mp4", count=4, start=20, height=480)
    session = open_session(server, "blazepose")
    try:
        found = 0
        for data in frames:
            status, body, _ = call(server, "POST", f"/sessions/{session}/frames", data, {"Content-Type": "image/jpeg"})
            assert status == 200, body
            assert len(body["people"]) <= 1 and len(body["limbs"]) > 19
            for person in body["people"]:
                assert np.array(person["keypoints"]).shape == (33, 3)
                found += 1
        assert found >= 3
    finally:
        call(server, "DELETE", f"/sessions/{session}")


def test_a_new_session_starts_its_ids_at_one(server: LiveProcess, frames) -> None:
    for _ in range(2):
        session = open_session(server)
        _, body, _ = call(server, "POST", f"/sessions/{session}/frames", frames[0])
        assert min(p["id"] for p in body["people"] if p["id"] is not None) == 1
        call(server, "DELETE", f"/sessions/{session}")


def test_bad_frames_are_refused_with_a_clear_message(server: LiveProcess, frames) -> None:
    session = open_session(server)
    png = cv2.imencode(".png", np.zeros((64, 64, 3), np.uint8))[1].tobytes()
    huge = cv2.imencode(".jpg", np.zeros((1080, 1920, 3), np.uint8))[1].tobytes()  # small file, many pixels
    cases = [
        (b"this is not an image", 400, "not a JPEG"),
        (png, 400, "not a JPEG"),
        (b"", 400, "empty"),
        (frames[0][: len(frames[0]) // 3], 400, "damaged"),
        (huge, 413, "LIVE_MAX_FRAME_PIXELS"),
        (b"\xff\xd8" + b"\0" * (300 * 1024), 413, "LIVE_MAX_FRAME_KB"),
        (repeated_scan(20_000), 413, "scans"),  # 9 s of CPU for 42,839 repeats before, outside LIVE_THREADS
        (claiming(1280, 720), 400, "damaged"),  # was answered as a grey 1280x720 frame
    ]
    for data, expected, words in cases:
        started = time.monotonic()
        status, body, _ = call(server, "POST", f"/sessions/{session}/frames", data, {"Content-Type": "image/jpeg"})
        assert (status, body["status"]) == (expected, expected) and words in body["error"], (data[:20], body)
        assert time.monotonic() - started < 1.0, body
    # The session survived them all and still answers.
    status, body, _ = call(server, "POST", f"/sessions/{session}/frames", frames[0])
    assert status == 200 and body["people"]
    status, body, _ = call(server, "POST", "/sessions", b'{"model": "blazepose-heavy"}')
    assert status == 400 and "openpose" in body["error"]
    status, body, _ = call(server, "POST", "/sessions", b"not json")
    assert status == 400 and "JSON" in body["error"]
    call(server, "DELETE", f"/sessions/{session}")


def test_one_session_too_many_is_a_503_that_says_so(server: LiveProcess) -> None:
    sessions = [open_session(server), open_session(server)]
    status, body, headers = call(server, "POST", "/sessions", b"{}")
    assert status == 503 and "All 2 live sessions are in use" in body["error"] and headers["Retry-After"]
    call(server, "DELETE", f"/sessions/{sessions[0]}")
    sessions[0] = open_session(server)  # a closed session's slot is free at once
    for session in sessions:
        call(server, "DELETE", f"/sessions/{session}")


def test_a_client_that_vanishes_frees_its_slot_and_leaves_nothing_running(server: LiveProcess, frames) -> None:
    # One that sent frames and went silent (a closed tab): its slot is free after LIVE_IDLE_TIMEOUT_S.
    silent = open_session(server)
    assert call(server, "POST", f"/sessions/{silent}/frames", frames[0])[0] == 200
    # One that went away in the middle of a frame, and one before its answer came back.
    cut = open_session(server)
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(f"POST /sessions/{cut}/frames HTTP/1.1\r\nHost: x\r\nContent-Length: {len(frames[1])}\r\n\r\n"
                     .encode() + frames[1][:1000])
    started = time.monotonic()
    status = wait_until_no_sessions(server)
    assert status["sessions"] == {"open": 0, "answering": 0, "limit": 2}
    assert time.monotonic() - started < IDLE_S + 3
    gone = open_session(server)
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(f"POST /sessions/{gone}/frames HTTP/1.1\r\nHost: x\r\nContent-Length: {len(frames[2])}\r\n\r\n"
                     .encode() + frames[2])
    status = wait_until_no_sessions(server)
    assert status["sessions"]["answering"] == 0
    # The server is none the worse: a new session is answered.
    session = open_session(server)
    assert call(server, "POST", f"/sessions/{session}/frames", frames[3])[0] == 200
    call(server, "DELETE", f"/sessions/{session}")
    assert "expired" in server.log() and "Traceback" not in server.log()


def test_refused_frames_keep_no_slot(server: LiveProcess) -> None:
    """10 bytes every so often kept a slot for ever: a refused frame restarted the idle time."""
    session = open_session(server)
    deadline = time.monotonic() + IDLE_S + 3
    while (status := call(server, "POST", f"/sessions/{session}/frames", b"not a jpeg")[0]) == 400:
        assert time.monotonic() < deadline, "a session sending only refused frames was never closed"
        time.sleep(IDLE_S / 3)
    assert status == 404 and wait_until_no_sessions(server)["sessions"]["open"] == 0


def test_a_session_answers_only_the_owner_that_opened_it(server: LiveProcess, frames) -> None:
    status, body, _ = call(server, "POST", "/sessions", b"{}", {"X-Live-Owner": "browser-a"})
    assert status == 201
    session = body["id"]
    for other in ({"X-Live-Owner": "browser-b"}, {}):
        status, body, _ = call(server, "POST", f"/sessions/{session}/frames", frames[0], other)
        assert status == 404 and "ended" in body["error"]
        assert call(server, "DELETE", f"/sessions/{session}", None, other)[0] == 404
    assert call(server, "POST", f"/sessions/{session}/frames", frames[0], {"X-Live-Owner": "browser-a"})[0] == 200
    assert call(server, "DELETE", f"/sessions/{session}", None, {"X-Live-Owner": "browser-a"})[0] == 204


def test_sigterm_stops_the_server(tmp_path: Path, model_path: Path) -> None:
    live = LiveProcess(tmp_path / "live.log", model_path, LIVE_SESSIONS="1").start()
    assert live.stop() == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", live.port), timeout=1).close()


def test_a_second_frame_of_a_session_while_its_first_is_answered_is_a_409(server: LiveProcess, videos_dir: Path) -> None:
    big = clip_frames(videos_dir / CLIP, count=1, start=30, height=700)[0]  # 1245x700: about the slowest allowed
    session = open_session(server)
    first = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        first.request("POST", f"/sessions/{session}/frames", body=big)
        deadline = time.monotonic() + 10
        while server.status()["sessions"]["answering"] == 0:  # the first frame is being answered now
            assert time.monotonic() < deadline
            time.sleep(0.005)
        status, body, _ = call(server, "POST", f"/sessions/{session}/frames", big)
        assert status == 409 and "one frame at a time" in body["error"]
        assert first.getresponse().status == 200
    finally:
        first.close()
    call(server, "DELETE", f"/sessions/{session}")

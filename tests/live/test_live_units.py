"""The live server's parts alone: the frame check (JPEG header before any decoding, hostile JPEGs
built here), the session registry (limit, one frame at a time, expiry of silent sessions on a
clock the test moves, refused frames keeping no session alive, owners) and its tracker, a frame's
decode under the inference lock, and that live/ imports no web or queue framework."""
from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

from config import LiveSettings
from hostile_jpegs import claiming, repeated_scan
from live.frames import MAX_SCANS, FrameError, decode_frame, jpeg_layout, jpeg_size
from live.server import LiveServer
from live.sessions import SessionBusy, SessionNotFound, SessionRegistry, SessionsFull
from pose import Person

LIMITS = {"max_bytes": 512 * 1024, "max_pixels": 1280 * 720}  # the live defaults


def jpeg(width: int, height: int, **params) -> bytes:
    flags = [cv2.IMWRITE_JPEG_PROGRESSIVE, 1] if params.get("progressive") else []
    return cv2.imencode(".jpg", np.full((height, width, 3), 120, np.uint8), flags)[1].tobytes()


@pytest.mark.parametrize("progressive", [False, True])
def test_jpeg_size_reads_the_header(progressive: bool) -> None:
    assert jpeg_size(jpeg(640, 360, progressive=progressive)) == (640, 360)


def test_jpeg_size_is_none_for_anything_else() -> None:
    png = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes()
    for data in (b"", b"\xff\xd8", png, b"hello world", b"\xff\xd8\xff\xda\x00\x08" + b"\0" * 10):
        assert jpeg_size(data) is None


def test_decode_frame_refuses_with_the_status_that_says_why() -> None:
    image = decode_frame(jpeg(64, 48), max_bytes=10_000, max_pixels=10_000)
    assert image.shape == (48, 64, 3) and image.dtype == np.uint8
    for data, status, words in [(jpeg(200, 100), 413, "20,000 pixels"), (b"x" * 20_000, 413, "bytes"),
                                (b"GIF89a", 400, "not a JPEG"), (jpeg(4, 4), 400, "at least 8"),
                                (jpeg(64, 48)[:200], 400, "damaged")]:
        with pytest.raises(FrameError) as caught:
            decode_frame(data, max_bytes=10_000, max_pixels=10_000)
        assert caught.value.status == status and words in str(caught.value), (status, str(caught.value))


def test_a_jpeg_of_many_scans_is_refused_before_it_is_decoded() -> None:
    hostile = repeated_scan(42_000)  # the probe's frame: ~7-9 s of decoding on the old code
    assert len(hostile) <= LIMITS["max_bytes"] and jpeg_layout(hostile).scans > 42_000
    started = time.perf_counter()
    with pytest.raises(FrameError) as caught:
        decode_frame(hostile, **LIMITS)
    assert caught.value.status == 413 and f"more than {MAX_SCANS} scans" in str(caught.value)
    assert time.perf_counter() - started < 1.0
    # 512 KiB of empty comment segments: the walk stops at MAX_MARKERS, and the frame is refused.
    padded = jpeg(64, 48)[:2] + b"\xff\xfe\x00\x02" * 130_000 + jpeg(64, 48)[2:]
    started = time.perf_counter()
    with pytest.raises(FrameError) as caught:
        decode_frame(padded, **LIMITS)
    assert caught.value.status == 413 and time.perf_counter() - started < 0.5
    # A progressive JPEG as encoders make them (10 scans) and a few repeats more still decode.
    assert jpeg_layout(repeated_scan(0)).scans == 10
    assert decode_frame(repeated_scan(MAX_SCANS - 11), **LIMITS).shape == (720, 1280, 3)


@pytest.mark.parametrize("progressive", [False, True])
def test_a_small_jpeg_whose_header_claims_a_larger_size_is_refused(progressive: bool) -> None:
    with pytest.raises(FrameError) as caught:
        decode_frame(claiming(1280, 720, progressive=progressive), **LIMITS)
    assert caught.value.status == 400 and "damaged" in str(caught.value) and "1280x720" in str(caught.value)


@pytest.mark.parametrize("progressive", [False, True])
@pytest.mark.parametrize("optimize", [False, True])
def test_the_least_data_a_real_frame_can_have_is_enough(progressive: bool, optimize: bool) -> None:
    for channels in (3, 1):  # an all-black frame (colour and grey): the fewest bits per block
        black = np.zeros((720, 1280, channels), np.uint8).squeeze()
        data = cv2.imencode(".jpg", black, [cv2.IMWRITE_JPEG_PROGRESSIVE, int(progressive),
                                            cv2.IMWRITE_JPEG_OPTIMIZE, int(optimize)])[1].tobytes()
        assert decode_frame(data, **LIMITS).shape == (720, 1280, 3)


def test_a_frames_decode_waits_for_the_inference_lock() -> None:
    """LIVE_THREADS caps a frame's decode as it caps inference: both run under one lock. (No model:
    the frame is refused by its decode, before any estimator is used.)"""
    server = LiveServer(("127.0.0.1", 0), LiveSettings(sessions=1), {"openpose": None})
    try:
        session = server.sessions.create("openpose", 18)
        outcome: list[BaseException] = []

        def send() -> None:
            try:
                server.answer_frame(session.id, claiming(1280, 720))
            except FrameError as exc:
                outcome.append(exc)
        with server.inference_lock:  # another session's inference, running
            sender = threading.Thread(target=send)
            sender.start()
            sender.join(0.5)
            assert sender.is_alive() and not outcome  # not decoded while the lock is held
        sender.join(5)
        assert len(outcome) == 1 and outcome[0].status == 400
    finally:
        server.server_close()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_registry_limit_busy_and_expiry() -> None:
    clock = Clock()
    registry = SessionRegistry(2, idle_timeout_s=5.0, clock=clock)
    a, b = registry.create("openpose", 18), registry.create("openpose", 18)
    with pytest.raises(SessionsFull):
        registry.create("openpose", 18)
    busy = registry.begin_frame(a.id)
    with pytest.raises(SessionBusy):
        registry.begin_frame(a.id)
    clock.now += 6
    assert registry.expire_idle() == [b.id]  # a is answering a frame: kept however long it takes
    registry.end_frame(busy)
    assert registry.counts() == (1, 0) and a.frames == 1
    clock.now += 4.9
    assert registry.expire_idle() == []
    clock.now += 0.2
    assert registry.expire_idle() == [a.id] and registry.counts() == (0, 0)
    with pytest.raises(SessionNotFound):
        registry.begin_frame(a.id)
    assert registry.create("openpose", 18).id not in (a.id, b.id)


def test_a_refused_frame_keeps_no_session_alive() -> None:
    clock = Clock()
    registry = SessionRegistry(1, idle_timeout_s=5.0, clock=clock)
    session = registry.create("openpose", 18)
    for _ in range(3):  # junk every 3 s: each refused, none restarts the idle time
        clock.now += 3
        registry.end_frame(registry.begin_frame(session.id), answered=False)
        if clock.now - 100 < 5:
            assert registry.expire_idle() == []
    assert registry.expire_idle() == [session.id] and session.frames == 0


def test_a_session_answers_only_its_owner() -> None:
    registry = SessionRegistry(2, idle_timeout_s=5.0)
    mine, scripts = registry.create("openpose", 18, owner="browser-a"), registry.create("openpose", 18)
    for owner in ("browser-b", None, "browser-a-"):
        with pytest.raises(SessionNotFound):
            registry.begin_frame(mine.id, owner)
        assert registry.close(mine.id, owner) is False
    with pytest.raises(SessionNotFound):
        registry.begin_frame(scripts.id, "browser-a")  # an owned request never reaches a script's session
    registry.end_frame(registry.begin_frame(mine.id, "browser-a"))
    assert registry.close(mine.id, "browser-a") and registry.close(scripts.id)
    assert registry.counts() == (0, 0)


def person(x: float, y: float) -> Person:
    keypoints = np.zeros((18, 3), np.float32)
    keypoints[:14, 0] = x + np.linspace(-20, 20, 14)
    keypoints[:14, 1] = y + np.linspace(-80, 80, 14)
    keypoints[:14, 2] = 0.8
    return Person(keypoints=keypoints, score=1.0)


def test_each_session_tracks_its_people_with_ids_from_one() -> None:
    registry = SessionRegistry(2, idle_timeout_s=5.0)
    one, two = registry.create("openpose", 18), registry.create("openpose", 18)
    ids = [one.track([person(100 + 3 * i, 200), person(400 - 3 * i, 200)]) for i in range(5)]
    assert ids[-1] == [1, 2] and all(frame == ids[-1] for frame in ids)
    assert two.track([person(400, 200)]) == [1]  # its own tracker
    assert one.track([]) == []


def test_live_imports_no_web_or_queue_framework(modules_loaded_by) -> None:
    assert modules_loaded_by("live.server, live.models", {"flask", "celery", "redis", "sqlalchemy", "web", "workers", "jobs"}) == []


def test_the_live_server_offers_each_blazepose_model() -> None:
    """blazepose-lite and blazepose-heavy (installed by make setup) load and answer a live frame,
    with BlazePose's 33 parts, as the full model does."""
    pytest.importorskip("mediapipe", reason="mediapipe is not installed: run `make setup`")
    from pathlib import Path

    import numpy as np

    from live.models import MODELS, load_live_estimator

    assert {"blazepose-lite", "blazepose", "blazepose-heavy"} <= set(MODELS)
    for name in ("blazepose-lite", "blazepose-heavy"):
        estimator = load_live_estimator(name, Path("unused.pb"), threads=1, net_height=256)
        assert estimator.name == name and estimator.skeleton.num_parts == 33
        assert estimator.estimate(np.zeros((96, 128, 3), np.uint8)) == []  # nobody in a black frame

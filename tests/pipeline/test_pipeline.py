"""The video pipeline end to end: the real model on real and generated clips, real encoding.

Network sizes are small where the test is about files and plumbing, not accuracy.
"""
from __future__ import annotations

import csv
import json
import struct
import zipfile
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from videoio import VideoError
from pipeline.video import PipelineCancelled, PipelineOptions, Progress, load_pipeline_backend, process_video

pytestmark = pytest.mark.model

OUTPUT_NAMES = {"annotated.mp4", "keypoints.json", "keypoints.csv", "openpose_json.zip",
                "tracks_mot.txt", "screenshots", "angles.csv", "people.json", "reps.csv", "people"}
SMALL = dict(net_height=128, upsample=2)


@pytest.fixture(scope="module")
def backend(model_path: Path):
    """As the workers load it: two inferences in flight (test_pipeline_inputs uses one)."""
    backend = load_pipeline_backend(PipelineOptions(), model_path)
    assert backend.parallel_requests == 2
    return backend


@pytest.fixture(scope="module")
def vtest_run(backend, videos_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """25 frames (2.5 s) of vtest.avi at the default network size, with progress recorded."""
    out = tmp_path_factory.mktemp("vtest") / "job"
    progress: list[Progress] = []
    options = PipelineOptions(end_s=2.5, screenshot_interval_s=1.0)
    result = process_video(videos_dir / "vtest.avi", out, options, backend=backend, on_progress=progress.append)
    return out, result, progress


def top_level_atoms(path: Path) -> list[str]:
    atoms, data = [], path.read_bytes()
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8:pos + 16])[0]
        atoms.append(kind.decode("latin-1"))
        pos += size if size else len(data)
    return atoms


def video_facts(path: Path) -> dict:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        facts = {"codec": stream.codec_context.name, "pix_fmt": stream.codec_context.pix_fmt,
                 "width": stream.width, "height": stream.height, "audio": bool(container.streams.audio)}
        times = [float(f.pts * f.time_base) for f in container.decode(stream)]
    facts["frames"] = len(times)
    facts["duration_s"] = times[-1] + (times[1] - times[0]) if len(times) > 1 else 0.0
    return facts


def test_outputs_are_complete_and_browser_playable(vtest_run) -> None:
    out, result, _ = vtest_run
    assert OUTPUT_NAMES <= {p.name for p in out.iterdir()}
    assert not list(out.parent.glob(".job.*"))  # no temporary folder left beside it
    facts = video_facts(out / "annotated.mp4")
    assert (facts["codec"], facts["pix_fmt"], facts["width"], facts["height"]) == ("h264", "yuv420p", 768, 576)
    assert facts["frames"] == result.frames_processed == 25
    assert abs(facts["duration_s"] - 2.5) <= 0.1 + 1e-6  # within one frame at 10 fps
    atoms = top_level_atoms(out / "annotated.mp4")
    assert atoms.index("moov") < atoms.index("mdat")  # +faststart
    shots = sorted(p.name for p in (out / "screenshots").iterdir())
    assert shots == ["poster.jpg", "t0000000.000s.jpg", "t0000001.000s.jpg", "t0000002.000s.jpg"]


def test_exports_follow_their_schemas_and_ids_start_at_one(vtest_run) -> None:
    out, result, _ = vtest_run
    doc = json.loads((out / "keypoints.json").read_text())
    assert doc["video"]["fps"] == "10" and doc["video"]["width"] == 768 and doc["video"]["source"] == "vtest.avi"
    assert doc["options"]["end_s"] == 2.5 and doc["model"]["backend"] == "openvino"
    anns = doc["annotations"]
    filled = [a for a in anns if a["interpolated"]]
    assert len(anns) - len(filled) == result.detections > 25  # several people walk through vtest
    assert all(a["track_id"] is not None for a in filled)  # only a person's gaps are filled
    assert {a["image_id"] for a in anns} <= set(range(25))
    ids = {a["track_id"] for a in anns} - {None}
    assert ids == set(range(1, max(ids) + 1)) and max(ids) == result.tracks  # dense, from 1
    for a in anns:
        assert len(a["keypoints"]) == 51 and a["category_id"] == 1 and len(a["bbox"]) == 4
        assert a["time_s"] == pytest.approx(a["image_id"] / 10)
    with open(out / "keypoints.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["frame", "time_s", "track_id", "person", "joint", "x", "y", "score", "x_raw", "y_raw",
                             "interpolated", "world_x", "world_y", "world_z"]
    assert len(rows) == sum(sum(1 for v in a["parts"][2::3] if v > 0) for a in anns)  # every part, neck too
    with zipfile.ZipFile(out / "openpose_json.zip") as zf:
        names = zf.namelist()
        first = json.loads(zf.read(names[0]))
    assert names[0] == "vtest_000000000000_keypoints.json" and len(names) == 25
    assert first["version"] == 1.3 and len(first["people"][0]["pose_keypoints_2d"]) == 54
    mot = np.loadtxt(out / "tracks_mot.txt", delimiter=",", ndmin=2)
    assert mot.shape[1] == 10 and mot[:, 0].min() >= 1 and mot[:, 0].max() <= 25
    assert set(mot[:, 1].astype(int)) == ids and (mot[:, 7:] == -1).all()
    assert (mot[:, 4] > 0).all() and (mot[:, 5] > 1.5 * mot[:, 4]).all()  # upright whole-person boxes


def test_progress_reports_stages_and_ends_with_every_frame(vtest_run) -> None:
    _, _, progress = vtest_run
    stages = [p.stage for p in progress]
    assert [s for i, s in enumerate(stages) if i == 0 or s != stages[i - 1]] == [
        "probing", "analysing", "tracking", "rendering", "finalizing"]
    assert progress[-1].frames_done == progress[-1].frames_total == 25
    fractions = [p.fraction for p in progress]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    analysing = [p for p in progress if p.stage == "analysing"]
    assert all(p.fps > 0 for p in analysing[1:]) and analysing[-1].eta_s is not None


def test_ids_restart_at_one_for_the_next_video_and_mot_frames_are_source_frames(backend, videos_dir, tmp_path) -> None:
    options = PipelineOptions(start_s=3.0, end_s=4.0, net_height=256)
    process_video(videos_dir / "vtest.avi", tmp_path / "second", options, backend=backend)
    mot = np.loadtxt(tmp_path / "second" / "tracks_mot.txt", delimiter=",", ndmin=2)
    assert mot.size and mot[:, 1].min() == 1
    assert mot[:, 0].min() >= 31 and mot[:, 0].max() <= 40  # source frames 30..39, 1-based


def test_a_stored_upload_is_named_as_its_owner_named_it(backend, videos_dir, tmp_path) -> None:
    stored = tmp_path / "source"  # as the web app stores uploads
    stored.symlink_to(videos_dir / "vtest.avi")
    out = tmp_path / "named"
    result = process_video(stored, out, PipelineOptions(end_s=0.3, net_height=128), backend=backend,
                           source_name="Campus walk.avi")
    header = json.loads((out / "keypoints.json").read_text())
    assert result.source_name == header["video"]["source"] == "Campus walk.avi"
    with zipfile.ZipFile(out / "openpose_json.zip") as archive:
        assert all(n.startswith("Campus walk_") for n in archive.namelist())


def make_clip(path: Path, *, frames: int = 24, size: tuple[int, int] = (161, 121), fps: int = 12,
              audio: bool = True) -> None:
    """A small H.264 clip with a moving bright square and, optionally, a 440 Hz AAC tone."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = size[0] + size[0] % 2, size[1] + size[1] % 2, "yuv420p"
        sound = container.add_stream("aac", rate=16000) if audio else None
        if sound is not None:
            sound.layout = "mono"
        for i in range(frames):
            image = np.full((video.height, video.width, 3), 40, np.uint8)
            image[20:60, 10 + 3 * i: 50 + 3 * i] = 230
            for packet in video.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        if sound is not None:
            t = np.arange(int(16000 * frames / fps)) / 16000
            samples = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
            for start in range(0, samples.shape[1], 1024):
                frame = av.AudioFrame.from_ndarray(samples[:, start:start + 1024], format="fltp", layout="mono")
                frame.sample_rate = 16000
                for packet in sound.encode(frame):
                    container.mux(packet)
            for packet in sound.encode(None):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)


def test_audio_is_kept_and_stride_keeps_the_duration(backend, tmp_path) -> None:
    make_clip(tmp_path / "tone.mp4")
    options = PipelineOptions(frame_stride=2, skeleton_only=True, **SMALL)
    result = process_video(tmp_path / "tone.mp4", tmp_path / "out", options, backend=backend)
    facts = video_facts(tmp_path / "out" / "annotated.mp4")
    assert facts["audio"] and result.frames_processed == facts["frames"] == 12
    assert result.output_fps == "6"
    assert abs(facts["duration_s"] - 2.0) <= 1 / 6 + 1e-6


def test_cancel_leaves_no_output_and_no_temporary_folder(backend, videos_dir, tmp_path) -> None:
    polls = iter(range(1000))
    with pytest.raises(PipelineCancelled):
        process_video(videos_dir / "vtest.avi", tmp_path / "job", PipelineOptions(**SMALL), backend=backend,
                      should_cancel=lambda: next(polls) >= 3)
    assert list(tmp_path.iterdir()) == []


def test_cancel_while_rendering_leaves_no_output_and_no_temporary_folder(backend, videos_dir, tmp_path) -> None:
    stage: list[str] = []
    polls_while_rendering = []

    def cancel_in_pass_two() -> bool:
        if stage and stage[-1] == "rendering":
            polls_while_rendering.append(1)
        return len(polls_while_rendering) >= 3

    with pytest.raises(PipelineCancelled):
        process_video(videos_dir / "vtest.avi", tmp_path / "job", PipelineOptions(end_s=2.0, **SMALL),
                      backend=backend, should_cancel=cancel_in_pass_two,
                      on_progress=lambda p: stage.append(p.stage))
    assert "analysing" in stage and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content", [b"this is not a video\n" * 100, b""], ids=["text", "empty"])
def test_bad_input_raises_video_error_and_leaves_nothing(backend, tmp_path, content: bytes) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bad.mp4").write_bytes(content)
    with pytest.raises(VideoError):
        process_video(tmp_path / "in" / "bad.mp4", tmp_path / "out" / "job", PipelineOptions(), backend=backend)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_truncated_video_raises_video_error_and_leaves_nothing(backend, videos_dir, tmp_path) -> None:
    data = (videos_dir / "openpose_examples_media_video.avi").read_bytes()
    (tmp_path / "cut.avi").write_bytes(data[:6000])
    with pytest.raises(VideoError):
        process_video(tmp_path / "cut.avi", tmp_path / "job", PipelineOptions(), backend=backend)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.avi"]


def test_a_job_delivered_twice_ends_with_one_complete_output(backend, tmp_path) -> None:
    make_clip(tmp_path / "clip.mp4", frames=6, audio=False)
    out = tmp_path / "job"
    out.mkdir()
    (out / "stale.txt").write_text("from an earlier, interrupted delivery")
    options = PipelineOptions(**SMALL)
    process_video(tmp_path / "clip.mp4", out, options, backend=backend)
    process_video(tmp_path / "clip.mp4", out, options, backend=backend)
    assert OUTPUT_NAMES == {p.name for p in out.iterdir()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "job"]
    # A failing delivery leaves the complete output alone.
    (tmp_path / "broken.mp4").write_bytes(b"\x00" * 100)
    with pytest.raises(VideoError):
        process_video(tmp_path / "broken.mp4", out, options, backend=backend)
    assert OUTPUT_NAMES == {p.name for p in out.iterdir()}


def test_the_pipeline_backend_matches_the_latency_backend_under_concurrency(backend, model_path, videos_dir) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from pose import PoseEstimator, load_backend
    from videoio import VideoReader
    with VideoReader(videos_dir / "vtest.avi", end_s=0.4) as reader:
        tensors = [PoseEstimator(backend, net_height=184).preprocess(f.image).tensor for f in reader]
    single = load_backend("openvino", model_path)
    expected = [single.infer(t) for t in tensors]
    with ThreadPoolExecutor(2) as pool:
        got = list(pool.map(backend.infer, tensors))
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, atol=1e-4)


def _photo_clip(path: Path, photo: Path, frames: int = 2) -> Path:
    """A short H.264 clip of one COCO photo (whole-body people), 320 px wide."""
    image = cv2.imread(str(photo))
    height = int(round(image.shape[0] * 320 / image.shape[1] / 2)) * 2
    image = cv2.resize(image, (320, height), interpolation=cv2.INTER_AREA)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 320, height, "yuv420p"
        for _ in range(frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def test_accurate_quality_runs_every_scale_and_finds_the_same_person(backend, shared_data, tmp_path) -> None:
    """quality=accurate on a 2-frame clip of a real photo: the header lists every pass's input,
    and the skier is found where balanced finds her, in the frames' pixels."""
    clip = _photo_clip(tmp_path / "skier.mp4", shared_data / "coco" / "images" / "000000000785.jpg")
    found = {}
    for quality in ("balanced", "accurate"):
        options = PipelineOptions(net_height=192, quality=quality, keypoints_only=True)
        process_video(clip, tmp_path / quality, options, backend=backend)
        doc = json.loads((tmp_path / quality / "keypoints.json").read_text())
        assert doc["options"]["quality"] == quality
        found[quality] = [a for a in doc["annotations"] if a["image_id"] == 0]
        assert found[quality], quality
    assert doc["model"]["input"]["flip"] is True
    assert [s["height"] for s in doc["model"]["input"]["scales"]] == [144, 192, 240, 288]
    best = {q: np.array(people[0]["keypoints_raw"]).reshape(-1, 3) for q, people in found.items()}
    both = (best["balanced"][:, 2] > 0) & (best["accurate"][:, 2] > 0)
    assert both.sum() >= 8
    distance = np.linalg.norm(best["balanced"][both, :2] - best["accurate"][both, :2], axis=1)
    assert np.median(distance) < 15  # pixels of a 320-wide frame

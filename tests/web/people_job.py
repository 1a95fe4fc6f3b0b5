"""A finished job whose people are known exactly: synthetic skeletons with known angles
(tests/skeleton_poses.py), drawn into a real H.264 video and screenshots as the pipeline draws
them, and the people files written by the real ``write_people_exports``. For the People API and
page tests (no model needed, so the curves are the same on every run).

Person 1: 0-3 s, walks right, knee bending 40 +- 30 degrees twice a second (so the right knee
reads 10 at 0.375 s + k/2 and 70 at 0.125 s + k/2). Person 2: 1.0-2.5 s, stands facing left,
elbow at 90."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from config import Settings
from jobs import Job, JobStore, output_dir
from output_folders import list_outputs
from pose import Person, SkeletonAnnotator
from skeleton_poses import final_rows, side_view
from videoio import VideoWriter, write_jpeg
from pipeline.frames import POSTER_NAME, SCREENSHOTS_DIR, screenshot_name, track_color
from pipeline.people_exports import write_people_exports

FPS = 30
WIDTH, HEIGHT = 640, 360
SECONDS = 3.0
SHOT_TIMES = (0.0, 1.0, 2.0)


def knee_at(time_s: float) -> float:
    return 40.0 + 30.0 * math.sin(2 * math.pi * 2.0 * time_s)


def people() -> dict[int, list[tuple[int, np.ndarray]]]:
    frames = int(SECONDS * FPS)
    one = [(s, side_view(knee=knee_at(s / FPS), origin=(120.0 + 2.5 * s, 190.0))) for s in range(frames)]
    two = [(s, side_view(elbow=90.0, facing=-1, origin=(520.0, 190.0))) for s in range(30, 75)]
    return {1: one, 2: two}


def make_people_job(store: JobStore, settings: Settings, *, source_name: str = "skeletons.mp4",
                    shot_times: tuple[float, ...] = SHOT_TIMES) -> Job:
    job = store.create_job(source_name=source_name, options={}, owner=None,
                           source_meta={"width": WIDTH, "height": HEIGHT, "fps": FPS, "duration_s": SECONDS})
    claim = store.mark_running(job.id, worker="test").claim
    out = output_dir(settings, job.id)
    (out / SCREENSHOTS_DIR).mkdir(parents=True)
    rows = final_rows(people(), fps=FPS)
    annotator = SkeletonAnnotator(color_by="person")
    background = np.full((HEIGHT, WIDTH, 3), 40, np.uint8)
    writer = VideoWriter(out / "annotated.mp4", width=WIDTH, height=HEIGHT, fps=Fraction(FPS))
    try:
        for seq in range(int(SECONDS * FPS)):
            here = rows[rows["seq"] == seq]
            persons = [Person(keypoints=np.asarray(r["keypoints"]), score=float(r["score"])) for r in here]
            image = annotator.annotate(background, persons, labels=[str(r["person"]) for r in here],
                                       colors=[track_color(int(r["person"])) for r in here])
            writer.write(image, time_s=seq / FPS)
            if any(abs(seq / FPS - t) < 1e-9 for t in shot_times):
                write_jpeg(out / SCREENSHOTS_DIR / screenshot_name(seq / FPS), image)
            if seq == 45:
                write_jpeg(out / SCREENSHOTS_DIR / POSTER_NAME, image)
    finally:
        writer.close()
    (out / "keypoints.json").write_text('{"annotations": []}')
    (out / "keypoints.csv").write_text("frame,track_id\n")
    (out / "tracks_mot.txt").write_text("")
    write_people_exports(rows, fps=float(FPS), video={"width": WIDTH, "height": HEIGHT}, out_dir=out)
    assert store.mark_succeeded(job.id, outputs=list_outputs(out), timings={}, claim=claim)
    return store.get(job.id)


def make_blazepose_job(store: JobStore, settings: Settings, clip, *, end_s: float = 1.0) -> Job:
    """A finished job of the real BlazePose model on the first ``end_s`` seconds of ``clip``
    (the real pipeline, written into the job's folder): one person with world coordinates."""
    from pipeline.video import PipelineOptions, process_video

    options = PipelineOptions(model="blazepose", end_s=end_s, screenshot_interval_s=0.5)
    job = store.create_job(source_name=clip.name, options=options.to_dict(), owner=None, source_meta={})
    claim = store.mark_running(job.id, worker="test").claim
    out = output_dir(settings, job.id)
    process_video(clip, out, options)
    assert store.mark_succeeded(job.id, outputs=list_outputs(out), timings={}, claim=claim)
    return store.get(job.id)

"""Final rows (``pipeline.tracks.final_dtype``) from a real video: the real model, SORT as pass 1
runs it (every tracklet recorded, unconfirmed ones too) and ``pipeline.tracks.finalize``, for the
tests that need people as the two-pass pipeline will hand them to ``write_people_exports``.
The pipeline itself does not run pass 1 this way yet (the lead is restructuring it), so this
helper does what its pass 1 will do, without drawing or encoding."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pose import PoseEstimator, load_backend
from pose.boxes import whole_person_box
from tracking import Sort
from videoio import VideoReader, probe
from pipeline.poselog import NO_TRACK, PoseLog
from pipeline.tracks import FinalTracks, TrackSettings, finalize


def final_rows_from_video(video: Path, model: Path, work: Path, *, end_s: float | None = None,
                          net_height: int = 368,
                          settings: TrackSettings = TrackSettings()) -> tuple[FinalTracks, float]:
    """(the finalized tracks, fps) of ``video`` up to ``end_s``; files go to ``work``."""
    info = probe(video)
    fps = float(info.fps)
    estimator = PoseEstimator(load_backend("openvino", model), net_height=net_height)
    tracker = Sort(max_age=3, min_hits=3, iou_threshold=0.3, report_unconfirmed=True)
    log = PoseLog(work / "pass1.rows", num_parts=18)
    confirmed: set[int] = set()
    table = []
    with VideoReader(video, end_s=end_s) as reader:
        for seq, frame in enumerate(reader):
            table.append((frame.index, frame.time_s))
            persons = [p for p in estimator.estimate(frame.image) if p.num_parts]
            boxes = np.array([whole_person_box(p.keypoints) for p in persons], np.float64).reshape(-1, 4)
            scores = np.array([p.score for p in persons], np.float64)
            serial_of = {}
            for obj in tracker.update(boxes, scores):
                if obj.detection_index is not None:
                    serial_of[obj.detection_index] = (obj.serial, obj.box)
                    if obj.track_id is not None:
                        confirmed.add(obj.serial)
            for i, person in enumerate(persons):
                serial, box = serial_of.get(i, (NO_TRACK, boxes[i]))
                log.add(seq, frame.index, frame.time_s, track=serial, score=person.score, box=box,
                        keypoints=person.keypoints)
    rows = log.close()
    frame_table = np.array(table, dtype=[("frame", "<i4"), ("time_s", "<f8")])
    final = finalize(rows, frame_table=frame_table, confirmed=confirmed, appearance={}, fps=fps,
                     settings=settings, out_path=work / "final.rows")
    return final, fps

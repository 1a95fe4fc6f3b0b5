"""The pose models a live session can use, behind one small interface (the only place that knows
which estimators exist, so that a new model is one entry in :data:`MODELS`).

A live estimator has ``name``, ``label``, ``skeleton`` (a :class:`pose.Skeleton`) and
``estimate(image_bgr, timestamp_ms=None) -> list[pose.Person]``: keypoints in the image's
pixels (x right, y down), one row per part of the skeleton, confidence 0 where missing.
OpenPose is loaded here with its own thread count (live inference must leave the video jobs
their cores); BlazePose through ``pose.models.load_estimator``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from pose import OPENPOSE_18, Person, PoseEstimator, Skeleton, load_backend


def skeleton_json(skeleton: object) -> dict:
    """A skeleton as the live API sends it: ``{"name", "parts": [...], "limbs": [[a, b], ...]}``.
    Reads a :class:`pose.Skeleton` (parts ``part_names``) or anything naming them ``parts``."""
    parts = getattr(skeleton, "parts", None) or getattr(skeleton, "part_names")
    return {"name": str(getattr(skeleton, "name", "")), "parts": [str(p) for p in parts],
            "limbs": [[int(a), int(b)] for a, b in skeleton.limbs]}


class LiveEstimator(Protocol):
    name: str
    label: str
    skeleton: Skeleton

    def estimate(self, image_bgr: np.ndarray, timestamp_ms: int | None = None) -> list[Person]: ...


class OpenPoseLive:
    """The OpenPose mobilenet_thin graph (``pose.PoseEstimator``) for live frames.

    model_path: ``graph_opt.pb``. threads: OpenVINO's inference threads (one inference at a time,
    compiled for latency). net_height: network input height (multiple of 8; the width follows
    the frame's aspect ratio). backend: ``"openvino"`` or ``"opencv"``.
    """

    name = "openpose"
    label = "OpenPose (mobilenet_thin, 18 parts)"
    skeleton = OPENPOSE_18

    def __init__(self, model_path: Path, *, threads: int, net_height: int, backend: str = "openvino") -> None:
        loaded = load_backend(backend, model_path, num_threads=threads)  # cv2.dnn's threads are process-wide
        self._estimator = PoseEstimator(loaded, net_height=net_height)

    def estimate(self, image_bgr: np.ndarray, timestamp_ms: int | None = None) -> list[Person]:
        """People in ``image_bgr`` (uint8 (H, W, 3) BGR), best first; ``timestamp_ms`` is unused
        (OpenPose looks at each frame alone)."""
        return self._estimator.estimate(image_bgr)


class BlazePoseLive:
    """BlazePose (MediaPipe's full landmark model, 33 parts, one person) for live frames; the
    subclasses below run the lite and heavy landmark models (``make blazepose-models``).

    The one loaded model serves every session, so each frame is analysed on its own (MediaPipe's
    static-image mode): its tracking between frames would carry one session's person into
    another's. The settings OpenPose takes are accepted and unused (MediaPipe sizes its own
    input and runs its own threads).
    """

    name = "blazepose"
    label = "BlazePose (MediaPipe full, 33 parts, one person)"
    model_complexity = 1

    def __init__(self, model_path: Path, *, threads: int, net_height: int, backend: str = "openvino") -> None:
        from pose.blazepose import BlazePoseEstimator

        self._estimator = BlazePoseEstimator(model_complexity=self.model_complexity, static_images=True)
        self.skeleton = self._estimator.skeleton

    def estimate(self, image_bgr: np.ndarray, timestamp_ms: int | None = None) -> list[Person]:
        """[] or [the person] in ``image_bgr``; ``timestamp_ms`` is unused (see the class)."""
        return self._estimator.estimate(image_bgr)


class BlazePoseLiteLive(BlazePoseLive):
    name = "blazepose-lite"
    label = "BlazePose lite (MediaPipe, 33 parts, one person, fastest)"
    model_complexity = 0


class BlazePoseHeavyLive(BlazePoseLive):
    name = "blazepose-heavy"
    label = "BlazePose heavy (MediaPipe, 33 parts, one person, most accurate)"
    model_complexity = 2


#: Every model a live session may ask for: name -> loader(model_path, threads=, net_height=, backend=).
MODELS: dict[str, Callable[..., LiveEstimator]] = {
    "openpose": OpenPoseLive, "blazepose": BlazePoseLive, "blazepose-lite": BlazePoseLiteLive,
    "blazepose-heavy": BlazePoseHeavyLive}


class UnknownModelError(ValueError):
    """A model name that is not in :data:`MODELS`."""


def load_live_estimator(name: str, model_path: Path, *, threads: int, net_height: int,
                        backend: str = "openvino") -> LiveEstimator:
    """Load the model called ``name`` (once per live server). Raises UnknownModelError for a
    name not in :data:`MODELS`, and pose's ModelLoadError / BackendUnavailableError."""
    loader = MODELS.get(name)
    if loader is None:
        raise UnknownModelError(f"unknown live model {name!r}; choose one of: {', '.join(MODELS)}")
    return loader(model_path, threads=threads, net_height=net_height, backend=backend)

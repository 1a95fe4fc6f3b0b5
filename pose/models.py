"""The pose models behind one interface: :func:`load_estimator` by name.

Every estimator has ``skeleton`` (a :class:`~pose.skeleton.Skeleton`: what its keypoints are)
and ``estimate(image_bgr, timestamp_ms=None) -> list[Person]`` (people in source pixels, best
first); for pipelines also the three stages ``preprocess(image, timestamp_ms=None)``,
``infer(prepared)`` and ``postprocess(raw, prepared)``, ``parallel_requests`` (how many
``infer`` calls may run at once; 1 means one at a time, in order) and ``reset()`` (forget what
was tracked: call it before a new video).

=============  ===============================  ==========================================
name           model                            skeleton
=============  ===============================  ==========================================
``openpose``   OpenPose mobilenet_thin           OPENPOSE_18: 18 parts, many people, 2D
               (``graph_opt.pb``, OpenVINO or
               cv2.dnn)
``blazepose``  BlazePose GHUM 3D (MediaPipe      BLAZEPOSE_33: 33 landmarks, one person,
               0.10.14, full model)             with world coordinates in metres
=============  ===============================  ==========================================
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from pose.assembly import DEFAULT_UPSAMPLE
from pose.backends import DEFAULT_BACKEND, load_backend
from pose.errors import BackendUnavailableError
from pose.skeleton import BLAZEPOSE_33, OPENPOSE_18, Person, Skeleton

#: Model name -> the skeleton its people have (known without loading anything).
MODEL_SKELETONS: dict[str, Skeleton] = {"openpose": OPENPOSE_18, "blazepose": BLAZEPOSE_33}
MODEL_NAMES: tuple[str, ...] = tuple(MODEL_SKELETONS)
DEFAULT_MODEL = "openpose"


class Estimator(Protocol):
    """What :func:`load_estimator` returns (see the module docstring)."""

    skeleton: Skeleton
    parallel_requests: int

    def estimate(self, image_bgr: np.ndarray, timestamp_ms: int | None = None) -> list[Person]: ...

    def reset(self) -> None: ...

    def preprocess(self, image: np.ndarray, timestamp_ms: int | None = None): ...

    def infer(self, prepared): ...

    def postprocess(self, raw, prepared) -> list[Person]: ...


def skeleton_of(name: str) -> Skeleton:
    """The skeleton of model ``name``. Raises BackendUnavailableError for an unknown name."""
    try:
        return MODEL_SKELETONS[name]
    except KeyError:
        raise BackendUnavailableError(f"unknown model {name!r}; choose one of: {', '.join(MODEL_NAMES)}") from None


def load_estimator(name: str = DEFAULT_MODEL, *, model_path: str | Path | None = None,
                   backend: str = DEFAULT_BACKEND, precision: str = "f32", parallel_requests: int = 1,
                   net_height: int = 368, net_width: int | None = None, upsample: int = DEFAULT_UPSAMPLE,
                   min_detection_confidence: float = 0.5, min_tracking_confidence: float = 0.5) -> Estimator:
    """Load model ``name`` once (per process) and return its estimator.

    openpose: ``model_path`` (the ``graph_opt.pb`` file) is required; ``backend``
        ("openvino", "onnxruntime", "opencv", or "torch": then a
        :class:`~pose.device_estimator.DevicePoseEstimator`), ``precision``, ``parallel_requests``, ``net_height``,
        ``net_width`` and ``upsample`` as :class:`~pose.estimator.PoseEstimator` and
        :func:`~pose.backends.load_backend` take them.
    blazepose: the model ships inside the mediapipe wheel: ``model_path`` must be None and the
        OpenPose settings are not used; ``min_detection_confidence`` and
        ``min_tracking_confidence`` as :class:`~pose.blazepose.BlazePoseEstimator` takes them.

    Raises BackendUnavailableError (unknown name or backend, mediapipe missing), ModelLoadError
    (model file missing or unusable) and ValueError (bad settings).
    """
    skeleton_of(name)  # validates the name
    if name == "openpose":
        from pose.estimator import PoseEstimator

        if model_path is None:
            raise TypeError("load_estimator('openpose') needs model_path, the path of graph_opt.pb")
        loaded = load_backend(backend, model_path, precision=precision, parallel_requests=parallel_requests)
        if backend == "torch":  # resize and peak finding beside the network, on its device
            from pose.device_estimator import DevicePoseEstimator
            return DevicePoseEstimator(loaded, net_height=net_height, net_width=net_width, upsample=upsample)
        return PoseEstimator(loaded, net_height=net_height, net_width=net_width, upsample=upsample)
    from pose.blazepose import BlazePoseEstimator

    if model_path is not None:
        raise ValueError("the blazepose model ships inside the mediapipe wheel; model_path must be None")
    return BlazePoseEstimator(min_detection_confidence=min_detection_confidence,
                              min_tracking_confidence=min_tracking_confidence)

"""The pose models behind one interface: :func:`load_estimator` by name.

Every estimator has ``skeleton`` (a :class:`~pose.skeleton.Skeleton`: what its keypoints are)
and ``estimate(image_bgr, timestamp_ms=None) -> list[Person]`` (people in source pixels, best
first); for pipelines also the three stages ``preprocess(image, timestamp_ms=None)``,
``infer(prepared)`` and ``postprocess(raw, prepared)``, ``parallel_requests`` (how many
``infer`` calls may run at once; 1 means one at a time, in order) and ``reset()`` (forget what
was tracked: call it before a new video).

===================  ===============================  ====================================
name                 model                            skeleton
===================  ===============================  ====================================
``openpose``         OpenPose mobilenet_thin           OPENPOSE_18: 18 parts, many people,
                     (``graph_opt.pb``, OpenVINO or   2D
                     cv2.dnn)
``blazepose-lite``,  BlazePose GHUM 3D (MediaPipe      BLAZEPOSE_33: 33 landmarks, one
``blazepose``,       0.10.14, lite / full / heavy     person, with world coordinates in
``blazepose-heavy``  landmark model)                  metres
``openpose-caffe-*``  CMU's OpenPose Caffe models        OPENPOSE_18 (coco), MPI_15 (mpi),
(coco, mpi, body25)  (the user's files, OpenVINO)     BODY_25 (body25): many people, 2D
===================  ===============================  ====================================

Every model the project knows, installed here or not, is in :mod:`pose.registry` (files,
licence, where the files go).
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from pose.assembly import DEFAULT_UPSAMPLE
from pose.backends import DEFAULT_BACKEND, load_backend
from pose.errors import BackendUnavailableError
from pose.registry import MODELS
from pose.skeleton import Person, Skeleton

#: Model name -> the skeleton its people have (known without loading anything).
MODEL_SKELETONS: dict[str, Skeleton] = {entry.name: entry.skeleton for entry in MODELS}
MODEL_NAMES: tuple[str, ...] = tuple(MODEL_SKELETONS)
DEFAULT_MODEL = "openpose"
#: BlazePose's names -> MediaPipe's model_complexity (0 lite, 1 full, 2 heavy).
BLAZEPOSE_COMPLEXITY: dict[str, int] = {"blazepose-lite": 0, "blazepose": 1, "blazepose-heavy": 2}
#: OpenPose's Caffe models' names -> the kind their files must be (pose.caffe_openpose.KINDS).
CAFFE_KINDS: dict[str, str] = {"openpose-caffe-coco": "coco", "openpose-caffe-mpi": "mpi",
                               "openpose-caffe-body25": "body25"}


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
    blazepose-lite / blazepose / blazepose-heavy: the models live inside the installed mediapipe
        (lite and heavy put there by ``make blazepose-models``): ``model_path`` must be None and
        the OpenPose settings are not used; ``min_detection_confidence`` and
        ``min_tracking_confidence`` as :class:`~pose.blazepose.BlazePoseEstimator` takes them.

    openpose-caffe-coco / -mpi / -body25: ``model_path`` (required) is the model's folder, its
        .prototxt or its .caffemodel (:func:`pose.caffe_openpose.find_caffe_files`); the files must
        be of that kind; ``net_height``, ``net_width`` and ``upsample`` as for openpose.

    keypointrcnn: ``model_path`` is torchvision's ``keypointrcnn_resnet50_fpn_coco-*.pth`` (None:
        random weights, for tests); :class:`~pose.keypointrcnn.KeypointRcnnEstimator` on the CPU.

    Raises BackendUnavailableError (unknown name or backend, mediapipe missing), ModelLoadError
    (model file missing or unusable) and ValueError (bad settings).
    """
    skeleton_of(name)  # validates the name
    if name in CAFFE_KINDS:
        from pose.caffe_openpose import load_caffe_estimator

        if model_path is None:
            raise TypeError(f"load_estimator({name!r}) needs model_path, the model's folder or .prototxt")
        return load_caffe_estimator(Path(model_path), expect=CAFFE_KINDS[name], net_height=net_height,
                                    net_width=net_width, upsample=upsample)
    if name == "keypointrcnn":
        from pose.keypointrcnn import KeypointRcnnEstimator

        return KeypointRcnnEstimator(model_path)
    if name not in ("openpose", *BLAZEPOSE_COMPLEXITY):
        raise BackendUnavailableError(f"the {name} model cannot be run by this version of Pose Studio")
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
        raise ValueError(f"the {name} model lives inside the installed mediapipe; model_path must be None")
    return BlazePoseEstimator(model_complexity=BLAZEPOSE_COMPLEXITY[name],
                              min_detection_confidence=min_detection_confidence,
                              min_tracking_confidence=min_tracking_confidence)

"""Multi-person pose estimation with the OpenPose mobilenet_thin graph: a pure library.

Images (numpy arrays) in, typed :class:`Person` results out. No Flask, Celery, Redis or job
store, no environment variables, no logging configuration, no import-time side effects.

Typical use::

    backend = load_backend("openvino", model_path)
    estimator = PoseEstimator(backend)
    persons = estimator.estimate(image_bgr)
    annotated = SkeletonAnnotator().annotate(image_bgr, persons)

or, for either model (``"openpose"``, ``"blazepose"``)::

    estimator = load_estimator("blazepose")          # load once per process
    persons = estimator.estimate(frame_bgr, timestamp_ms=t)   # timestamps: tracks across frames
    annotated = SkeletonAnnotator(skeleton=estimator.skeleton).annotate(frame_bgr, persons)
"""
from __future__ import annotations

from pose.assembly import DEFAULT_UPSAMPLE, AssemblyParams, parse_network_output
from pose.backends import BACKENDS, DEFAULT_BACKEND, Device, InferenceBackend, availability, load_backend
from pose.draw import SkeletonAnnotator
from pose.errors import (
    BackendUnavailableError, DeviceFailedError, DeviceUnavailableError, InvalidImageError, ModelLoadError, PoseError,
)
from pose.estimator import PoseEstimator
from pose.imagefile import read_image
from pose.models import MODEL_NAMES, load_estimator
from pose.preprocess import PreparedInput, network_input_size, prepare_input, to_bgr8
from pose.skeleton import (
    BLAZEPOSE_33, COCO17_FROM_OPENPOSE, COCO17_NAMES, LIMB_PAF_CHANNELS, LIMBS, NUM_PARTS, OPENPOSE_18,
    PART_NAMES, SKELETONS, Person, Skeleton,
)

__all__ = [
    "AssemblyParams", "BACKENDS", "BLAZEPOSE_33", "DEFAULT_UPSAMPLE", "BackendUnavailableError",
    "COCO17_FROM_OPENPOSE", "COCO17_NAMES", "DEFAULT_BACKEND", "Device", "DeviceFailedError",
    "DeviceUnavailableError",
    "InferenceBackend", "InvalidImageError", "LIMBS", "LIMB_PAF_CHANNELS", "MODEL_NAMES", "OPENPOSE_18",
    "SKELETONS", "Skeleton", "load_estimator",
    "ModelLoadError", "NUM_PARTS", "PART_NAMES", "Person", "PoseError", "PoseEstimator",
    "PreparedInput", "SkeletonAnnotator", "availability", "load_backend", "network_input_size",
    "parse_network_output", "prepare_input", "read_image", "to_bgr8",
]

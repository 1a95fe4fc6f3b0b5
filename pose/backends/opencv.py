"""OpenCV dnn backend: slower than OpenVINO (~110 ms per 432x368 frame on 2 cores) but always
available wherever OpenCV is, so it is the fallback."""
from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from pose.backends.availability import Availability, resolve_device
from pose.backends.base import OUTPUT_CHANNELS, check_batch, check_model_file, check_precision
from pose.backends.devices import AUTO, Device
from pose.errors import BackendUnavailableError, ModelLoadError


class OpenCvBackend:
    """Runs ``graph_opt.pb`` through ``cv2.dnn.readNetFromTensorflow``, f32 only.

    cv2.dnn takes and returns NCHW; this class converts so that it honours the NHWC contract of
    :class:`~pose.backends.base.InferenceBackend`. One network object is shared and guarded by a
    lock, so concurrent calls from several threads are serialised, not corrupted.
    """

    name = "opencv"
    parallel_requests = 1  # one shared network: concurrent calls queue on its lock
    device = "cpu"  # cv2.dnn's default target; the pip wheels have no CUDA

    def __init__(self, model_path: str | Path, *, precision: str = "f32", device: Device = AUTO) -> None:
        resolve_device(self.availability(), device)  # a GPU is refused, never quietly the CPU
        if check_precision(precision) != "f32":
            raise BackendUnavailableError(f"the opencv backend runs f32 only, not {precision}; use --backend openvino")
        path = check_model_file(model_path)
        try:
            self._net = cv2.dnn.readNetFromTensorflow(str(path))
        except cv2.error as exc:
            first_line = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unknown error"
            raise ModelLoadError(f"OpenCV could not read {path} as a TensorFlow graph: {first_line}") from None
        self.precision = "f32"
        self._lock = threading.Lock()

    @classmethod
    def availability(cls) -> Availability:
        return Availability(cls.name, True, devices=("cpu",), device_names={"cpu": "CPU (cv2.dnn)"},
                            gpu_reason="Pose Studio runs cv2.dnn on the CPU only (use the onnxruntime backend "
                            "for an NVIDIA GPU)", precisions={"cpu": ("f32",)})

    def infer(self, batch: np.ndarray) -> np.ndarray:
        """float32 NHWC [N, H, W, 3] BGR 0..255 -> float32 NHWC [N, H/8, W/8, 57]."""
        batch = check_batch(batch)
        blob = np.ascontiguousarray(batch.transpose(0, 3, 1, 2))
        with self._lock:
            self._net.setInput(blob)
            out = self._net.forward()
        if out.ndim != 4 or out.shape[1] != OUTPUT_CHANNELS:
            raise ModelLoadError(f"the graph returned shape {out.shape}; expected [N, 57, H/8, W/8] (wrong model?)")
        return np.ascontiguousarray(out.transpose(0, 2, 3, 1))

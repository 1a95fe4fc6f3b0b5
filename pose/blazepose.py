"""BlazePose (MediaPipe Pose, the "full" landmark model): one person per image, 33 landmarks with
3D world coordinates. A pure library: images in, :class:`~pose.skeleton.Person` out.

The model runs through MediaPipe's ``solutions.pose`` graph with ``model_complexity`` 1 (the
``pose_detection.tflite`` and ``pose_landmark_full.tflite`` files that ship inside the
``mediapipe==0.10.14`` wheel), 0 (lite) or 2 (heavy). The wheel lacks the lite and heavy
landmark models, which MediaPipe would download at run time (impossible offline): ``make
blazepose-models`` installs them from the npm package ``@mediapipe/pose``, checked by sha256. MediaPipe is imported when
an estimator is made, never at import time: without it OpenPose still works.

Results (:meth:`BlazePoseEstimator.estimate`): [] or one :class:`Person` with

- ``keypoints`` float32 (33, 3): x, y in source-image pixels (the landmark's normalised x times
  the image width, y times its height; a landmark may lie outside the image) and the landmark's
  visibility (0..1, the likelihood that it is in view and not occluded) as confidence;
- ``world`` float32 (33, 3): metres, origin at the centre between the hips, x right, y down,
  z away from the camera, as MediaPipe gives them;
- ``score``: the mean visibility of the 33 landmarks (MediaPipe's pose graph gives no person
  score).

Tracking: with timestamps (``timestamp_ms``, increasing, as from one video) the graph runs in
video mode: it finds the person once, then follows them from frame to frame and smooths the
landmarks with the real time between frames. A timestamp that does not increase starts a new
run (a new video). Without a timestamp every image is analysed on its own.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from pose.errors import BackendUnavailableError, ModelLoadError
from pose.preprocess import to_bgr8
from pose.skeleton import BLAZEPOSE_33, Person

#: The landmark model of each ``model_complexity``, as the mediapipe wheel names it.
LANDMARK_MODELS = {0: "pose_landmark_lite.tflite", 1: "pose_landmark_full.tflite",
                   2: "pose_landmark_heavy.tflite"}
_FRAME_US = 33333  # MediaPipe's solutions add this to their timestamp before each image


def _mediapipe() -> Any:
    try:
        import mediapipe  # noqa: PLC0415 - optional, heavy: only when a BlazePose model is made
    except ImportError as exc:
        raise BackendUnavailableError(
            "the blazepose model needs mediapipe 0.10.14, which is not installed: run `make setup-blazepose` "
            f"(pip install --require-hashes --no-deps -r requirements-blazepose.txt) ({exc})") from exc
    return mediapipe


class BlazePoseEstimator:
    """BlazePose GHUM 3D through MediaPipe (see the module docstring).

    model_complexity: 1 (default, the full model, inside the wheel), 0 (lite) or 2 (heavy).
    min_detection_confidence / min_tracking_confidence: MediaPipe's thresholds (default 0.5):
        below the first no person is reported; below the second, tracking gives up and the
        detector runs again on the next frame.
    smooth_landmarks: let MediaPipe smooth the landmarks over time in video mode (default True).
    static_images: the caller gives no timestamps (each image on its own): load that mode's graph
        up front instead of video mode's (default False). Either mode still works.

    One estimator holds one MediaPipe graph per mode; calls are serialised by a lock (the graph
    is not re-entrant), so share one per process, not per thread that wants parallelism.
    Raises BackendUnavailableError without mediapipe, ModelLoadError when the landmark model of
    ``model_complexity`` is not installed.
    """

    skeleton = BLAZEPOSE_33
    parallel_requests = 1  # video mode needs its frames one at a time, in order

    def __init__(self, *, model_complexity: int = 1, min_detection_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5, smooth_landmarks: bool = True,
                 static_images: bool = False) -> None:
        if model_complexity not in LANDMARK_MODELS:
            raise ValueError(f"model_complexity must be 0, 1 or 2, got {model_complexity!r}")
        for name, value in (("min_detection_confidence", min_detection_confidence),
                            ("min_tracking_confidence", min_tracking_confidence)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
        mp = _mediapipe()
        model = Path(mp.__file__).parent / "modules" / "pose_landmark" / LANDMARK_MODELS[model_complexity]
        if not model.is_file():
            raise ModelLoadError(
                f"{model.name} (model_complexity={model_complexity}) is not installed in {model.parent}, "
                "and MediaPipe would download it at run time: run `make blazepose-models` (it fetches "
                "@mediapipe/pose from npm and checks each file's sha256)")
        self.model_complexity = model_complexity
        self._settings = {"model_complexity": model_complexity, "smooth_landmarks": smooth_landmarks,
                          "enable_segmentation": False, "min_detection_confidence": min_detection_confidence,
                          "min_tracking_confidence": min_tracking_confidence}
        self._solutions = mp.solutions.pose
        self._graphs: dict[bool, Any] = {}
        self._lock = threading.Lock()
        self._last_us: int | None = None
        self.name = f"mediapipe {getattr(mp, '__version__', '?')} pose ({model.name})"
        # Load now, the graph the caller will use (static_images: it gives no timestamps): a bad
        # install fails here, not on the first frame.
        self._graph(static=static_images)

    def _graph(self, *, static: bool) -> Any:
        graph = self._graphs.get(static)
        if graph is None:
            try:
                graph = self._solutions.Pose(static_image_mode=static, **self._settings)
            except Exception as exc:  # noqa: BLE001 - MediaPipe raises RuntimeError and friends
                raise ModelLoadError(f"could not start MediaPipe's pose graph: {exc}") from exc
            self._graphs[static] = graph
        return graph

    def estimate(self, image_bgr: np.ndarray, timestamp_ms: int | None = None) -> list[Person]:
        """The person in ``image_bgr`` (uint8 (H, W, 3) BGR; grayscale, BGRA and 16-bit are
        converted): [] or [Person] (see the module docstring). ``timestamp_ms``: the frame's
        time in a video (increasing), or None for a lone image. Raises InvalidImageError."""
        prepared = self.preprocess(image_bgr, timestamp_ms=timestamp_ms)
        return self.postprocess(self.infer(prepared), prepared)

    # The three stages of PoseEstimator's interface, so that a pipeline treats both alike.

    def preprocess(self, image: np.ndarray, timestamp_ms: int | None = None) -> tuple[np.ndarray, int | None]:
        """(contiguous uint8 RGB (H, W, 3), timestamp_ms): validation and colour order only."""
        rgb = np.ascontiguousarray(to_bgr8(image)[:, :, ::-1])
        return rgb, None if timestamp_ms is None else int(timestamp_ms)

    def infer(self, prepared: tuple[np.ndarray, int | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Run the graph: None (nobody), or (normalised landmarks float32 (33, 3) x, y, z;
        visibility float32 (33,); world float32 (33, 3) metres)."""
        rgb, timestamp_ms = prepared
        with self._lock:
            if timestamp_ms is None:
                result = self._graph(static=True).process(rgb)
            else:
                graph = self._graph(static=False)
                now_us = int(timestamp_ms) * 1000
                if self._last_us is not None and now_us <= self._last_us:
                    graph.reset()  # time went back: another video (or a seek); start afresh
                self._last_us = now_us
                # MediaPipe's solutions stamp each image with their own clock (+33.333 ms a call);
                # set it so that the stamp is the frame's real time and smoothing sees real steps.
                graph._simulated_timestamp = now_us - _FRAME_US  # noqa: SLF001
                result = graph.process(rgb)
        if result.pose_landmarks is None:
            return None
        image = np.array([(p.x, p.y, p.z) for p in result.pose_landmarks.landmark], dtype=np.float32)
        visibility = np.array([p.visibility for p in result.pose_landmarks.landmark], dtype=np.float32)
        world = np.array([(p.x, p.y, p.z) for p in result.pose_world_landmarks.landmark], dtype=np.float32)
        return image, visibility, world

    def postprocess(self, raw, prepared: tuple[np.ndarray, int | None]) -> list[Person]:
        """Landmarks -> [Person] in source pixels (see the module docstring), or []."""
        if raw is None:
            return []
        image, visibility, world = raw
        height, width = prepared[0].shape[:2]
        keypoints = np.empty((BLAZEPOSE_33.num_parts, 3), dtype=np.float32)
        keypoints[:, 0] = image[:, 0] * width
        keypoints[:, 1] = image[:, 1] * height
        # Visibility as confidence; never exactly 0, which would mean "not found".
        keypoints[:, 2] = np.clip(visibility, 1e-6, 1.0)
        return [Person(keypoints=keypoints, score=float(visibility.mean()), world=world)]

    def reset(self) -> None:
        """Forget the person being tracked: the next timestamped image starts a new video."""
        with self._lock:
            graph = self._graphs.get(False)
            if graph is not None and self._last_us is not None:
                graph.reset()
            self._last_us = None

    def close(self) -> None:
        """Release the graphs (the estimator cannot be used afterwards)."""
        with self._lock:
            for graph in self._graphs.values():
                graph.close()
            self._graphs.clear()

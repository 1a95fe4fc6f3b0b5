"""Keypoint R-CNN (torchvision's ``keypointrcnn_resnet50_fpn``): a top-down model, person boxes
first, then COCO's 17 keypoints in each box. A pure library: images in, :class:`Person` out.

Weights are the user's (torchvision's ``keypointrcnn_resnet50_fpn_coco-*.pth``, from a path or
the torch hub cache; nothing is downloaded) or none: ``weights=None`` builds the network with
random weights (for tests). torch and torchvision are imported when an estimator is made.

Results (:meth:`KeypointRcnnEstimator.estimate`): one :class:`Person` per detected box whose
score is at least ``box_score_threshold``, best first, with

- ``keypoints`` float32 (17, 3) in :data:`~pose.skeleton.COCO_17` order: x, y in source-image
  pixels and the keypoint's confidence, the sigmoid of torchvision's keypoint score (0..1,
  never exactly 0: every part is placed);
- ``score``: the box's score.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from pose.errors import BackendUnavailableError, ModelLoadError
from pose.preprocess import to_bgr8
from pose.skeleton import COCO_17, Person


def _torch() -> tuple[Any, Any]:
    try:
        import torch  # noqa: PLC0415 - optional and heavy: only when this model is made
        import torchvision  # noqa: PLC0415
    except (ImportError, RuntimeError) as exc:  # a torchvision built for another torch raises RuntimeError
        raise BackendUnavailableError(
            "the keypointrcnn model needs torch and a torchvision built for it, which are not installed here "
            f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    return torch, torchvision


def torch_device(device: str) -> str:
    """``"cpu"``, ``"gpu"`` or ``"gpu:N"`` (pose's device names; ``"auto"``: a GPU if torch sees
    one) -> torch's ``"cpu"`` / ``"cuda:N"``. Raises BackendUnavailableError for a GPU torch
    cannot use (never the CPU in its place)."""
    torch, _ = _torch()
    kind, _, index = str(device).partition(":")
    if kind == "auto":
        return "cuda:0" if torch.cuda.is_available() else "cpu"
    if kind == "cpu":
        return "cpu"
    if kind != "gpu":
        raise ValueError(f"device must be auto, cpu, gpu or gpu:N, got {device!r}")
    if not torch.cuda.is_available():
        raise BackendUnavailableError(f"device {device}: this torch ({torch.__version__}) sees no CUDA GPU")
    number = int(index or 0)
    if number >= torch.cuda.device_count():
        raise BackendUnavailableError(f"device {device}: torch sees {torch.cuda.device_count()} GPU(s)")
    return f"cuda:{number}"


class KeypointRcnnEstimator:
    """torchvision's Keypoint R-CNN ResNet-50 FPN (see the module docstring).

    weights: a ``.pth`` state dict of ``keypointrcnn_resnet50_fpn`` (checked whole: a file of
        another network is refused, nothing half-loaded), or None for random weights.
    device: "cpu" (default), "gpu", "gpu:N" or "auto".
    box_score_threshold: boxes scoring below this are dropped (default 0.5).
    num_threads: torch's CPU threads (None: torch's default).
    min_size / max_size: torchvision resizes each image so that its short side is ``min_size``
        and its long side at most ``max_size`` (defaults 800 and 1333, what the weights were
        trained at); smaller is faster and less accurate.
    max_detections: the most boxes kept per image (default 100, torchvision's).

    Raises BackendUnavailableError without torch/torchvision or the GPU asked for, ModelLoadError
    for a weights file that is missing, unreadable or not this network's.
    """

    skeleton = COCO_17
    parallel_requests = 1

    def __init__(self, weights: str | Path | None = None, *, device: str = "cpu", box_score_threshold: float = 0.5,
                 num_threads: int | None = None, min_size: int = 800, max_size: int = 1333,
                 max_detections: int = 100) -> None:
        if not 0.0 <= box_score_threshold <= 1.0:
            raise ValueError(f"box_score_threshold must be between 0 and 1, got {box_score_threshold!r}")
        torch, torchvision = _torch()
        self._device = torch_device(device)
        if num_threads is not None:
            torch.set_num_threads(int(num_threads))
        model = torchvision.models.detection.keypointrcnn_resnet50_fpn(
            weights=None, weights_backbone=None, box_score_thresh=box_score_threshold, min_size=min_size,
            max_size=max_size, box_detections_per_img=max_detections)
        if weights is not None:
            model.load_state_dict(_state_dict(torch, Path(weights), model))
        self._model = model.eval().to(self._device)
        self._torch = torch
        self._lock = threading.Lock()
        self.device = "cpu" if self._device == "cpu" else f"gpu:{self._device.split(':')[1]}"
        self.name = f"torchvision {torchvision.__version__} keypointrcnn_resnet50_fpn"
        self.weights = None if weights is None else Path(weights)

    def estimate(self, image_bgr: np.ndarray, timestamp_ms: int | None = None) -> list[Person]:
        """People in ``image_bgr`` (uint8 (H, W, 3) BGR; other layouts are converted), best
        first. ``timestamp_ms`` is unused: every image stands alone."""
        prepared = self.preprocess(image_bgr)
        return self.postprocess(self.infer(prepared), prepared)

    def reset(self) -> None:
        """Nothing to forget: every image stands alone."""

    def preprocess(self, image: np.ndarray, timestamp_ms: int | None = None) -> np.ndarray:
        """float32 (3, H, W) RGB in 0..1, as torchvision's detection models take it."""
        rgb = to_bgr8(image)[:, :, ::-1]
        return np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32) / 255.0

    def infer(self, prepared: np.ndarray) -> dict[str, np.ndarray]:
        """boxes float32 (P, 4), scores (P,), keypoints (P, 17, 3), keypoints_scores (P, 17)."""
        torch = self._torch
        with self._lock, torch.inference_mode():
            result = self._model([torch.from_numpy(prepared).to(self._device)])[0]
        return {key: value.detach().cpu().numpy() for key, value in result.items()}

    def postprocess(self, raw: dict[str, np.ndarray], prepared: np.ndarray) -> list[Person]:
        """One Person per box (see the module docstring), best first."""
        people = []
        for points, logits, score in zip(raw["keypoints"], raw["keypoints_scores"], raw["scores"]):
            keypoints = np.empty((COCO_17.num_parts, 3), np.float32)
            keypoints[:, :2] = points[:, :2]
            keypoints[:, 2] = np.clip(1.0 / (1.0 + np.exp(-logits.astype(np.float64))), 1e-6, 1.0)
            people.append(Person(keypoints=keypoints, score=float(score)))
        return sorted(people, key=lambda p: -p.score)


def _state_dict(torch: Any, path: Path, model: Any) -> dict:
    """The checked state dict at ``path``: every tensor of ``model``'s, of the same shapes."""
    if not path.is_file():
        raise ModelLoadError(f"Keypoint R-CNN weights {path} not found")
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds for a bad file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise ModelLoadError(f"{path.name} is not a PyTorch weights file torch can read: {first}") from None
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]  # a training checkpoint that wraps the state dict
    if not isinstance(state, dict) or not state:
        raise ModelLoadError(f"{path.name} holds no state dict of tensors: not Keypoint R-CNN weights")
    want = model.state_dict()
    missing = [k for k in want if k not in state]
    unexpected = [k for k in state if k not in want]
    wrong = [k for k in want if k in state and tuple(getattr(state[k], "shape", ())) != tuple(want[k].shape)]
    if missing or unexpected or wrong:
        detail = (f"{len(missing)} of its {len(want)} tensors missing (e.g. {missing[0]})" if missing else
                  f"{len(wrong)} tensors of other shapes (e.g. {wrong[0]})" if wrong else
                  f"{len(unexpected)} tensors it does not have (e.g. {unexpected[0]})")
        raise ModelLoadError(f"{path.name} is not keypointrcnn_resnet50_fpn's weights: {detail}")
    return state

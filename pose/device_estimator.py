"""DevicePoseEstimator: :class:`~pose.estimator.PoseEstimator`'s three stages with the resize,
the network and the peak finding on the torch backend's device (:mod:`pose.device_peaks`).

- ``preprocess`` does no pixel work: it checks the image, converts it to uint8 BGR if needed and
  works out the network size and the mapping back to source pixels (:class:`FrameInput`);
- ``infer_batch`` uploads a batch of uint8 frames, resizes them, runs the network and finds the
  heatmap peaks there, and brings back one :class:`~pose.assembly.PeaksAndPafs` per frame;
- ``postprocess`` scores limbs on the PAFs and assembles people on the CPU, with the same code
  as the CPU path (:func:`pose.assembly.people_from_peaks`), so the people are the same.

It is what a pipeline gets for the ``torch`` backend, on the CPU too (where it saves the
post-processing's upsampling and blur on the CPU's own cores, nothing else). Pipelines that call
``postprocess`` in other processes can: a PeaksAndPafs is plain numpy, and
:class:`~pose.assembly.NetworkOutputParser` takes one in place of a network output.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pose.assembly import DEFAULT_UPSAMPLE, OPENPOSE_LAYOUT, AssemblyParams, PeaksAndPafs
from pose.backends.base import NETWORK_STRIDE
from pose.errors import InvalidImageError
from pose.estimator import NetworkEstimator, people_from_output
from pose.preprocess import InputGeometry, network_input_size, to_bgr8
from pose.skeleton import OPENPOSE_18, Person


@dataclass(frozen=True, eq=False)
class FrameInput:
    """A frame made ready for the device: image uint8 (H, W, 3) BGR as decoded; network_size
    (w, h) it is resized to there; geometry the mapping back to source pixels."""

    image: np.ndarray
    network_size: tuple[int, int]
    geometry: InputGeometry

    @property
    def source_size(self) -> tuple[int, int]:
        return self.geometry.source_size

    def to_source(self, xy: np.ndarray) -> np.ndarray:
        return self.geometry.to_source(xy)


class DevicePoseEstimator(NetworkEstimator):
    """Multi-person pose estimation with the resize and the peak finding beside the network.

    backend: a loaded :class:`~pose.backends.pytorch.TorchBackend`.
    net_height, net_width, upsample, params: as :class:`~pose.estimator.PoseEstimator`.
    """

    skeleton = OPENPOSE_18
    layout = OPENPOSE_LAYOUT  # the mobilenet_thin graph's channels (a post-processing pool needs it)

    def __init__(self, backend, *, net_height: int = 368, net_width: int | None = None,  # noqa: ANN001
                 upsample: int = DEFAULT_UPSAMPLE, params: AssemblyParams = AssemblyParams()) -> None:
        if not hasattr(backend, "infer_tensor"):
            raise TypeError(f"DevicePoseEstimator needs the torch backend, got {getattr(backend, 'name', backend)!r}")
        self._set_network(backend, net_height, net_width, upsample, params)

    def reset(self) -> None:
        """Nothing to do: no state is carried from one image to the next."""

    def estimate(self, image_bgr: np.ndarray, timestamp_ms: int | None = None) -> list[Person]:
        """People in ``image_bgr``, as :meth:`pose.estimator.PoseEstimator.estimate`."""
        prepared = self.preprocess(image_bgr)
        return self.postprocess(self.infer(prepared), prepared)

    def preprocess(self, image: np.ndarray, timestamp_ms: int | None = None) -> FrameInput:
        """Check and convert ``image`` (any layout :func:`~pose.preprocess.to_bgr8` takes); no
        resize (that happens on the device). Raises InvalidImageError for an unusable image."""
        bgr = np.ascontiguousarray(to_bgr8(image))
        height, width = bgr.shape[:2]
        if height < NETWORK_STRIDE or width < NETWORK_STRIDE:
            raise InvalidImageError(f"image is {width}x{height} pixels; both sides must be at least "
                                    f"{NETWORK_STRIDE} (the network's stride)")
        in_w, in_h = network_input_size(width, height, net_height=self.net_height, net_width=self.net_width)
        geometry = InputGeometry(source_size=(width, height), scale_x=width / in_w, scale_y=height / in_h)
        return FrameInput(image=bgr, network_size=(in_w, in_h), geometry=geometry)

    def infer(self, prepared: FrameInput) -> PeaksAndPafs:
        return self.infer_batch([prepared])[0]

    def infer_batch(self, prepared: list[FrameInput]) -> list[PeaksAndPafs]:
        """Frames of one network size -> their peaks and PAFs (one device round trip)."""
        import torch
        from pose.device_peaks import find_batch_peaks, resize_frames, upload_frames

        if not prepared:
            return []
        size = prepared[0].network_size
        if any(p.network_size != size for p in prepared):
            raise ValueError("infer_batch takes frames of one network size")
        device = self.backend.torch_device
        with torch.inference_mode():
            if all(p.image.shape == prepared[0].image.shape for p in prepared):
                batch = resize_frames(upload_frames([p.image for p in prepared], device), size)
            else:
                batch = torch.cat([resize_frames(upload_frames([p.image], device), size) for p in prepared])
            output = self.backend.infer_tensor(batch)
            return find_batch_peaks(output, upsample=self.upsample, params=self.params)

    def postprocess(self, raw: PeaksAndPafs | np.ndarray, prepared: FrameInput | InputGeometry) -> list[Person]:
        """People (source pixels, best first) from one frame's peaks and PAFs (or a network
        output, as PoseEstimator takes)."""
        geometry = prepared.geometry if isinstance(prepared, FrameInput) else prepared
        return people_from_output(self._parser, raw, geometry)

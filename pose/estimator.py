"""PoseEstimator: an image in, the people in it out (18 keypoints each, in source pixels).

The three stages are public so that a pipeline can overlap them across threads:
``estimate(image) == postprocess(infer(preprocess(image)), preprocess(image))``.
"""
from __future__ import annotations

import numpy as np

from pose.assembly import DEFAULT_UPSAMPLE, OPENPOSE_LAYOUT, AssemblyParams, NetworkOutputParser, PafLayout
from pose.backends.base import InferenceBackend
from pose.preprocess import InputGeometry, PreparedInput, network_input_size, prepare_input
from pose.skeleton import OPENPOSE_18, Person, Skeleton


class NetworkEstimator:
    """What the estimators on the OpenPose graph share (:class:`PoseEstimator`,
    :class:`~pose.multiscale.MultiScaleEstimator`, :class:`~pose.device_estimator.DevicePoseEstimator`):
    the backend, the network input size and upsampling, checked once here, and the parser that
    assembles people from the network's output."""

    def _set_network(self, backend, net_height: int, net_width: int | None, upsample: int,  # noqa: ANN001
                     params: AssemblyParams, layout: PafLayout = OPENPOSE_LAYOUT) -> None:
        network_input_size(net_height, net_height, net_height=net_height, net_width=net_width)  # validates
        if upsample < 1:
            raise ValueError(f"upsample must be >= 1, got {upsample}")
        self.backend = backend
        self.net_height = net_height
        self.net_width = net_width
        self.upsample = upsample
        self.params = params
        self._parser = NetworkOutputParser(upsample=upsample, params=params, layout=layout)  # reuses buffers, per thread

    @property
    def parallel_requests(self) -> int:
        """How many ``infer`` calls may run at once (the backend's number)."""
        return max(1, int(getattr(self.backend, "parallel_requests", 1) or 1))


class PoseEstimator(NetworkEstimator):
    """Multi-person pose estimation with the OpenPose mobilenet_thin graph.

    backend: a loaded :class:`~pose.backends.base.InferenceBackend` (see ``load_backend``); one
        backend can be shared by several estimators.
    net_height: network input height in pixels, a multiple of 8 (default 368).
    net_width: fixed network input width (multiple of 8); None (default) follows each image's
        aspect ratio, rounded to a multiple of 16.
    upsample: factor by which the part heatmaps are upsampled before peak finding (default
        ``DEFAULT_UPSAMPLE`` = 2; PAFs are sampled at native resolution).
    params: assembly thresholds (default ``AssemblyParams()``).
    layout / skeleton: the network output's channel layout and what its parts are (default the
        mobilenet_thin graph's: ``OPENPOSE_LAYOUT``, :data:`~pose.skeleton.OPENPOSE_18`); OpenPose's
        Caffe models give theirs (``pose.caffe``).
    """

    def __init__(
        self,
        backend: InferenceBackend,
        *,
        net_height: int = 368,
        net_width: int | None = None,
        upsample: int = DEFAULT_UPSAMPLE,
        params: AssemblyParams = AssemblyParams(),
        layout: PafLayout = OPENPOSE_LAYOUT,
        skeleton: Skeleton = OPENPOSE_18,
    ) -> None:
        if skeleton.num_parts != layout.num_parts:
            raise ValueError(f"the {skeleton.name} skeleton has {skeleton.num_parts} parts, the layout {layout.num_parts}")
        self._set_network(backend, net_height, net_width, upsample, params, layout)
        self.skeleton = skeleton
        self.layout = layout

    def estimate(self, image_bgr: np.ndarray, timestamp_ms: int | None = None) -> list[Person]:
        """People in ``image_bgr`` (uint8 (H, W, 3) BGR; grayscale, BGRA and 16-bit are converted),
        sorted by score, highest first. Raises InvalidImageError for an unusable image.
        ``timestamp_ms`` is accepted for the common estimator interface and not used: every
        image is analysed on its own."""
        prepared = self.preprocess(image_bgr)
        return self.postprocess(self.infer(prepared), prepared)

    def reset(self) -> None:
        """Nothing to do: no state is carried from one image to the next."""

    def preprocess(self, image: np.ndarray, timestamp_ms: int | None = None) -> PreparedInput:
        """Validate, convert and resize ``image`` for the network (CPU, no model involved);
        ``timestamp_ms`` is not used (every image stands alone)."""
        return prepare_input(image, net_height=self.net_height, net_width=self.net_width)

    def infer(self, prepared: PreparedInput) -> np.ndarray:
        """Run the network: float32 [h/8, w/8, 57] for one prepared image."""
        return self.backend.infer(prepared.tensor)[0]

    def infer_batch(self, prepared: list[PreparedInput]) -> list[np.ndarray]:
        """Run the network once on several prepared images of one size: a float32
        [h/8, w/8, 57] output for each, in order (a view into one [N, h/8, w/8, 57] array)."""
        if not prepared:
            return []
        batch = prepared[0].tensor if len(prepared) == 1 else np.concatenate([p.tensor for p in prepared])
        return list(self.backend.infer(batch))

    def postprocess(self, raw: np.ndarray, prepared: PreparedInput | InputGeometry) -> list[Person]:
        """Assemble people from the network output and map them to source pixels. Safe to call
        from several threads at once. The parser already ranks people by score, best first."""
        return people_from_output(self._parser, raw, prepared)


def people_from_output(parser: NetworkOutputParser, raw: np.ndarray,
                       geometry: PreparedInput | InputGeometry) -> list[Person]:
    """People in one network output ``raw`` (float32 [h/8, w/8, 57]) found by ``parser``, in
    source pixels (``geometry.to_source``), best first: what :meth:`PoseEstimator.postprocess`
    returns, callable where no estimator (no backend) exists, e.g. a post-processing process."""
    return [Person(keypoints=_to_source(keypoints, geometry), score=float(score)) for keypoints, score in parser(raw)]


def _to_source(keypoints: np.ndarray, geometry: PreparedInput | InputGeometry) -> np.ndarray:
    """(K, 3) network-input pixels -> (K, 3) float32 source pixels; missing parts stay 0, 0, 0."""
    out = np.zeros(keypoints.shape, dtype=np.float32)
    found = keypoints[:, 2] > 0
    out[found, :2] = geometry.to_source(keypoints[found, :2])
    out[found, 2] = keypoints[found, 2]
    return out

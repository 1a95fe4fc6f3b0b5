"""Quality presets: the network at several input scales and mirrored, outputs averaged.

OpenPose's "maximum accuracy" configuration runs the network at several input sizes
(``--scale_number``, ``--scale_gap``); flip averaging is the other standard test-time
augmentation. Both are done here on the network output before peak finding:

1. the image is resized once per scale (height ``round(net_height * scale / 8) * 8``, width by
   aspect as :func:`~pose.preprocess.network_input_size` chooses it, or the fixed width scaled);
2. with ``flip``, each scaled input is also run mirrored left-right; its output is mirrored
   back, its left and right heatmaps are swapped, each limb's PAF takes its mirror limb's
   channels and the PAF x components are negated;
3. every output (float32 (h, w, 57)) is resized bicubically to the grid of the largest scale
   (each map covers the whole image, so the resize aligns them exactly) and they are averaged;
4. the usual peak finding and PAF assembly (:class:`~pose.assembly.NetworkOutputParser`) runs
   once on the average, at the largest scale's resolution.

:data:`QUALITY_PRESETS` names the three sets the product offers (``bench/coco_eval.py
--presets`` measures them on ../shared/data/coco; docs/quality.md has the numbers).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pose.assembly import DEFAULT_UPSAMPLE, OPENPOSE_LAYOUT, AssemblyParams
from pose.backends.base import NETWORK_STRIDE, InferenceBackend
from pose.estimator import NetworkEstimator, people_from_output
from pose.preprocess import InputGeometry, network_input_size, to_bgr8
from pose.skeleton import LIMB_PAF_CHANNELS, LIMBS, NUM_PARTS, OPENPOSE_18, PART_NAMES, Person
from pose.errors import InvalidImageError

QUALITY_NAMES = ("fast", "balanced", "accurate")
DEFAULT_QUALITY = "balanced"


@dataclass(frozen=True)
class Augmentation:
    """Which inputs the network sees for one image.

    scales: input heights as fractions of the job's network height (1.0 = that height).
    flip: also run each scale mirrored left-right and average it in.
    """

    scales: tuple[float, ...] = (1.0,)
    flip: bool = False

    def __post_init__(self) -> None:
        if not self.scales or any(not 0.25 <= s <= 4.0 for s in self.scales):
            raise ValueError(f"scales must be 1 to n values between 0.25 and 4, got {self.scales!r}")

    @property
    def passes(self) -> int:
        """Network runs per image."""
        return len(self.scales) * (2 if self.flip else 1)

    @property
    def largest_scale(self) -> float:
        return max(self.scales)

    @property
    def relative_cost(self) -> float:
        """Network pixels per image relative to one run at scale 1 (the cost grows with them)."""
        return sum(s * s for s in self.scales) * (2 if self.flip else 1)


#: The product's presets (bench/coco_eval.py --presets, docs/quality.md): ``balanced`` is the
#: single pass the product always ran; ``fast`` a smaller input; ``accurate`` four scales and
#: the mirror (+0.05-0.06 AP over balanced on ../shared/data/coco, about 11x the network work).
QUALITY_PRESETS: dict[str, Augmentation] = {
    "fast": Augmentation(scales=(0.75,)),
    "balanced": Augmentation(scales=(1.0,)),
    "accurate": Augmentation(scales=(0.75, 1.0, 1.25, 1.5), flip=True),
}


def quality_augmentation(quality: str) -> Augmentation:
    """The :class:`Augmentation` of preset ``quality``; ValueError naming the choices otherwise."""
    try:
        return QUALITY_PRESETS[quality]
    except KeyError:
        raise ValueError(f"quality must be one of {', '.join(QUALITY_NAMES)}, got {quality!r}") from None


def scaled_height(net_height: int, scale: float) -> int:
    """Network input height at ``scale``: a multiple of 8, at least 8."""
    return max(NETWORK_STRIDE, int(round(net_height * scale / NETWORK_STRIDE)) * NETWORK_STRIDE)


def _mirror_part(index: int) -> int:
    name = PART_NAMES[index]
    for a, b in (("left_", "right_"), ("right_", "left_")):
        if name.startswith(a):
            return PART_NAMES.index(b + name[len(a):])
    return index


def _flip_channels() -> tuple[np.ndarray, np.ndarray]:
    """(source channel for each output channel, sign for each output channel) that turn the
    output of a mirrored image into the output of the image (after mirroring the grid)."""
    source = np.arange(NUM_PARTS + 1 + 2 * len(LIMBS))
    sign = np.ones(len(source), np.float32)
    for part in range(NUM_PARTS):
        source[part] = _mirror_part(part)
    for limb, (a, b) in enumerate(LIMBS):
        mirror = LIMBS.index((_mirror_part(a), _mirror_part(b)))
        (x, y), (mx, my) = LIMB_PAF_CHANNELS[limb], LIMB_PAF_CHANNELS[mirror]
        base = NUM_PARTS + 1
        source[base + x], source[base + y] = base + mx, base + my
        sign[base + x] = -1.0
    return source, sign


FLIP_SOURCE, FLIP_SIGN = _flip_channels()


def unflip_output(raw: np.ndarray) -> np.ndarray:
    """The network output of a left-right mirrored image (float32 (h, w, 57)) as the output of
    the image itself: the grid mirrored back, left/right parts and limbs swapped, PAF x negated."""
    return raw[:, ::-1, FLIP_SOURCE] * FLIP_SIGN


def average_outputs(outputs: list[np.ndarray], size: tuple[int, int]) -> np.ndarray:
    """The mean of network outputs (float32 (h_i, w_i, 57), each covering the whole image),
    each resized bicubically to ``size`` = (width, height) cells: float32 (height, width, 57)."""
    width, height = size
    total = np.zeros((height, width, outputs[0].shape[2]), np.float32)
    for raw in outputs:
        if raw.shape[:2] != (height, width):
            raw = _resize(raw, width, height)
        total += raw
    total /= len(outputs)
    return total


def _resize(raw: np.ndarray, width: int, height: int) -> np.ndarray:
    # cv2.resize takes at most 512 channels; 57 is fine, but the array must be contiguous.
    return cv2.resize(np.ascontiguousarray(raw), (width, height), interpolation=cv2.INTER_CUBIC)


@dataclass(frozen=True, eq=False)
class PreparedScales:
    """One image made ready for every scale: ``tensors`` float32 [1, h_i, w_i, 3] BGR 0..255
    in the order of the augmentation's scales; ``geometry`` maps the largest scale's network
    pixels (the grid the outputs are averaged on) back to source pixels; ``grid`` is that
    grid's (width, height) in output cells."""

    tensors: tuple[np.ndarray, ...]
    geometry: InputGeometry
    grid: tuple[int, int]

    def to_source(self, xy: np.ndarray) -> np.ndarray:
        return self.geometry.to_source(xy)


class MultiScaleEstimator(NetworkEstimator):
    """:class:`~pose.estimator.PoseEstimator` with several input scales and optional flip.

    backend: a loaded InferenceBackend (shared like PoseEstimator's).
    augmentation: the scales and flip (:data:`QUALITY_PRESETS`).
    net_height / net_width / upsample / params: as PoseEstimator takes them; ``net_height`` and
        a fixed ``net_width`` are scale 1.

    ``estimate(image) == postprocess(infer(preprocess(image)), preprocess(image))``; ``infer``
    returns the averaged float32 (h, w, 57) output on the largest scale's grid, so that
    ``postprocess`` (or a post-processing process given ``prepared.geometry``) works on it as
    on a single pass.
    """

    skeleton = OPENPOSE_18
    layout = OPENPOSE_LAYOUT  # the averaged output keeps the graph's channels

    def __init__(self, backend: InferenceBackend, augmentation: Augmentation, *, net_height: int = 368,
                 net_width: int | None = None, upsample: int = DEFAULT_UPSAMPLE,
                 params: AssemblyParams = AssemblyParams()) -> None:
        self._set_network(backend, net_height, net_width, upsample, params)
        self.augmentation = augmentation

    def reset(self) -> None:
        """Nothing to do: every image stands alone."""

    def estimate(self, image_bgr: np.ndarray, timestamp_ms: int | None = None) -> list[Person]:
        prepared = self.preprocess(image_bgr)
        return self.postprocess(self.infer(prepared), prepared)

    def input_sizes(self, width: int, height: int) -> list[tuple[int, int]]:
        """Network input (width, height) for each scale, for an image of ``width`` x ``height``."""
        sizes = []
        for scale in self.augmentation.scales:
            h = scaled_height(self.net_height, scale)
            w = None if self.net_width is None else scaled_height(self.net_width, scale)
            sizes.append(network_input_size(width, height, net_height=h, net_width=w))
        return sizes

    def preprocess(self, image: np.ndarray, timestamp_ms: int | None = None) -> PreparedScales:
        bgr = to_bgr8(image)
        height, width = bgr.shape[:2]
        if height < NETWORK_STRIDE or width < NETWORK_STRIDE:
            raise InvalidImageError(
                f"image is {width}x{height} pixels; both sides must be at least {NETWORK_STRIDE} (the network's stride)")
        sizes = self.input_sizes(width, height)
        tensors = tuple(cv2.resize(bgr, size, interpolation=cv2.INTER_CUBIC).astype(np.float32)[np.newaxis]
                        for size in sizes)
        in_w, in_h = sizes[self.augmentation.scales.index(self.augmentation.largest_scale)]
        geometry = InputGeometry(source_size=(width, height), scale_x=width / in_w, scale_y=height / in_h)
        return PreparedScales(tensors=tensors, geometry=geometry,
                              grid=(in_w // NETWORK_STRIDE, in_h // NETWORK_STRIDE))

    def infer(self, prepared: PreparedScales) -> np.ndarray:
        """The averaged float32 (h, w, 57) output on ``prepared.grid``."""
        outputs = []
        for tensor in prepared.tensors:
            if self.augmentation.flip:
                both = self.backend.infer(np.concatenate([tensor, tensor[:, :, ::-1]]))
                outputs += [both[0], unflip_output(both[1])]
            else:
                outputs.append(self.backend.infer(tensor)[0])
        return average_outputs(outputs, prepared.grid)

    def postprocess(self, raw: np.ndarray, prepared: PreparedScales | InputGeometry) -> list[Person]:
        geometry = prepared.geometry if isinstance(prepared, PreparedScales) else prepared
        return people_from_output(self._parser, raw, geometry)

"""From an image to the network's input tensor, and back from network pixels to source pixels.

Network input convention (see MODEL.md): BGR, 0..255 as float32, no mean subtraction, resized
with INTER_CUBIC as tf-pose-estimation does. The default input height is 368 with the width
following the image's aspect ratio (rounded to a multiple of 16), which scored better on COCO
than tf-pose's fixed 432x368 stretch.

Coordinates use the pixel-centre convention: pixel (i, j) covers [i - 0.5, i + 0.5], so a point
at network-input x maps to source x as ``x_src = (x_in + 0.5) * scale_x - 0.5`` with
``scale_x = source_width / network_width`` (and likewise for y).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pose.backends.base import NETWORK_STRIDE
from pose.errors import InvalidImageError

WIDTH_MULTIPLE = 16
MAX_ASPECT = 4.0  # aspect-following width is clamped to [height / 4, height * 4]


def to_bgr8(image: np.ndarray) -> np.ndarray:
    """Convert an image to uint8 BGR of shape (H, W, 3).

    Accepts grayscale (H, W) or (H, W, 1), BGR (H, W, 3), BGRA (H, W, 4; alpha is dropped, as
    OpenCV loads RGBA files as BGRA); dtype uint8, uint16 (scaled by 255/65535) or float in
    0..1. Returns the input itself when it is already uint8 BGR. Raises InvalidImageError for
    anything else.
    """
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise InvalidImageError(f"expected a grayscale, BGR or BGRA image, got an array of shape {image.shape}")
    if image.size == 0:
        raise InvalidImageError(f"the image is empty (shape {image.shape})")
    image = _to_uint8(image)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return np.ascontiguousarray(image[:, :, :3])
    return image


def _to_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return ((image.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    if np.issubdtype(image.dtype, np.floating):
        return (np.clip(np.nan_to_num(image), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    raise InvalidImageError(f"unsupported pixel type {image.dtype}; expected uint8, uint16 or float in 0..1")


def network_input_size(
    image_width: int, image_height: int, *, net_height: int = 368, net_width: int | None = None
) -> tuple[int, int]:
    """The network input size ``(width, height)`` in pixels for an image of the given size.

    net_height: network input height, a multiple of 8 (default 368).
    net_width: a fixed width (multiple of 8); None (default) follows the image's aspect ratio,
        rounded to a multiple of 16 and clamped to [net_height / 4, net_height * 4].
    """
    if net_height < NETWORK_STRIDE or net_height % NETWORK_STRIDE:
        raise ValueError(f"net_height must be a positive multiple of {NETWORK_STRIDE}, got {net_height}")
    if net_width is not None:
        if net_width < NETWORK_STRIDE or net_width % NETWORK_STRIDE:
            raise ValueError(f"net_width must be a positive multiple of {NETWORK_STRIDE}, got {net_width}")
        return net_width, net_height
    aspect = min(max(image_width / image_height, 1.0 / MAX_ASPECT), MAX_ASPECT)
    width = int(round(net_height * aspect / WIDTH_MULTIPLE)) * WIDTH_MULTIPLE
    return max(width, WIDTH_MULTIPLE), net_height


@dataclass(frozen=True)
class InputGeometry:
    """How a network input maps back to its source image: all that post-processing needs of a
    :class:`PreparedInput` (small, so it can be sent to another process without the tensor).

    source_size: (width, height) of the source image in pixels.
    scale_x, scale_y: source pixels per network-input pixel.
    """

    source_size: tuple[int, int]
    scale_x: float
    scale_y: float

    def to_source(self, xy: np.ndarray) -> np.ndarray:
        """Map points (..., 2) from network-input pixels to source pixels (pixel-centre convention)."""
        xy = np.asarray(xy, dtype=np.float32)
        scale = np.array([self.scale_x, self.scale_y], dtype=np.float32)
        return (xy + 0.5) * scale - 0.5


@dataclass(frozen=True, eq=False)
class PreparedInput:
    """An image made ready for the network.

    tensor: float32 [1, h, w, 3], BGR 0..255 (h = net height, w = net width).
    source_size: (width, height) of the source image in pixels.
    scale_x, scale_y: source pixels per network-input pixel (source_width / w, source_height / h).
    """

    tensor: np.ndarray
    source_size: tuple[int, int]
    scale_x: float
    scale_y: float

    @property
    def network_size(self) -> tuple[int, int]:
        """(width, height) of the network input in pixels."""
        return int(self.tensor.shape[2]), int(self.tensor.shape[1])

    @property
    def geometry(self) -> InputGeometry:
        """The mapping back to source pixels, without the tensor."""
        return InputGeometry(source_size=self.source_size, scale_x=self.scale_x, scale_y=self.scale_y)

    def to_source(self, xy: np.ndarray) -> np.ndarray:
        """Map points (..., 2) from network-input pixels to source pixels (pixel-centre convention)."""
        return self.geometry.to_source(xy)


def prepare_input(image: np.ndarray, *, net_height: int = 368, net_width: int | None = None) -> PreparedInput:
    """Convert ``image`` (any layout :func:`to_bgr8` accepts) into a :class:`PreparedInput`.

    Raises InvalidImageError when the image is unusable or smaller than the network stride
    (8 px) on either side.
    """
    bgr = to_bgr8(image)
    height, width = bgr.shape[:2]
    if height < NETWORK_STRIDE or width < NETWORK_STRIDE:
        raise InvalidImageError(
            f"image is {width}x{height} pixels; both sides must be at least {NETWORK_STRIDE} (the network's stride)"
        )
    in_w, in_h = network_input_size(width, height, net_height=net_height, net_width=net_width)
    resized = cv2.resize(bgr, (in_w, in_h), interpolation=cv2.INTER_CUBIC)
    tensor = resized.astype(np.float32)[np.newaxis]
    return PreparedInput(tensor=tensor, source_size=(width, height), scale_x=width / in_w, scale_y=height / in_h)

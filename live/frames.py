"""One live frame: a JPEG as the browser's canvas encodes it, checked before it is decoded.

A frame that is too many bytes or, by its JPEG header, too many pixels is refused (413) before
any pixel is decoded, so a small file that would decode to a huge image costs nothing; anything
that is not a JPEG that decodes is a 400. Images are uint8 (H, W, 3) BGR, as the models take them.
"""
from __future__ import annotations

import cv2
import numpy as np

#: JPEG start-of-frame markers (baseline, extended, progressive, lossless; not DHT/JPG/DAC).
_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


class FrameError(ValueError):
    """A frame that cannot be used; ``status`` is the HTTP status that says why (400 or 413)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's start-of-frame header, or None when ``data`` is not a JPEG
    (or its header ends before one)."""
    if len(data) < 4 or data[:2] != b"\xff\xd8":
        return None
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if marker in _SOF_MARKERS:
            if pos + 9 > len(data):
                return None
            height = int.from_bytes(data[pos + 5:pos + 7], "big")
            width = int.from_bytes(data[pos + 7:pos + 9], "big")
            return width, height
        if marker == 0xDA or length < 2:  # image data before any frame header
            return None
        pos += 2 + length
    return None


def decode_frame(data: bytes, *, max_bytes: int, max_pixels: int) -> np.ndarray:
    """The frame in ``data`` as uint8 (H, W, 3) BGR. Raises FrameError: 413 over ``max_bytes`` or
    ``max_pixels`` (width x height), 400 when it is empty, not a JPEG, or does not decode."""
    if len(data) > max_bytes:
        raise FrameError(f"The frame is {len(data):,} bytes, over the live limit of {max_bytes:,} bytes "
                         "(LIVE_MAX_FRAME_KB); send smaller JPEG frames (480 px high is plenty).", status=413)
    if not data:
        raise FrameError("The frame is empty: send one JPEG image as the request body.", status=400)
    size = jpeg_size(data)
    if size is None:
        raise FrameError("The frame is not a JPEG image: send one JPEG image (image/jpeg) as the request "
                         "body.", status=400)
    width, height = size
    if width < 8 or height < 8:
        raise FrameError(f"The frame is {width}x{height} pixels; it needs at least 8 a side.", status=400)
    if width * height > max_pixels:
        raise FrameError(f"The frame is {width}x{height} = {width * height:,} pixels, over the live limit of "
                         f"{max_pixels:,} (LIVE_MAX_FRAME_PIXELS); scale it down before sending.", status=413)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.shape[:2] != (height, width):
        raise FrameError("The frame's JPEG data is damaged: it does not decode.", status=400)
    return image

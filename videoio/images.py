"""``write_jpeg``: screenshots and posters."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from videoio.errors import VideoWriteError


def write_jpeg(
    path: str | Path, image_bgr: np.ndarray, *, quality: int = 90, max_width: int | None = None
) -> Path:
    """Write ``image_bgr`` (uint8 (H, W, 3) BGR) as a JPEG file; return the path written.

    Args:
        quality: JPEG quality 1..100.
        max_width: if given and the image is wider, it is scaled down (aspect ratio kept,
            area interpolation) to this width before encoding.

    Raises:
        ValueError: the image is not uint8 (H, W, 3) or the arguments are out of range.
        VideoWriteError: encoding or writing the file failed.
    """
    if image_bgr.dtype != np.uint8 or image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
        raise ValueError(f"expected a uint8 (H, W, 3) BGR image, got {image_bgr.dtype} {image_bgr.shape}")
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be within 1..100, got {quality}")
    if max_width is not None and max_width < 1:
        raise ValueError(f"max_width must be positive, got {max_width}")
    height, width = image_bgr.shape[:2]
    if max_width is not None and width > max_width:
        new_height = max(1, round(height * max_width / width))
        image_bgr = cv2.resize(image_bgr, (max_width, new_height), interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", image_bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise VideoWriteError(f"JPEG encoding failed for {Path(path).name}")
    path = Path(path)
    try:
        path.write_bytes(encoded.tobytes())
    except OSError as exc:
        raise VideoWriteError(f"cannot write {path.name}: {exc.strerror}", errno=exc.errno) from None
    return path

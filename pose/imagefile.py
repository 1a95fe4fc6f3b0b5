"""Reading image files with reasons a person can act on when a file is unusable.

Pixels are returned exactly as stored: EXIF orientation is not applied, so keypoints refer to
the stored pixel grid (which is what COCO annotations use).
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pose.errors import InvalidImageError
from pose.preprocess import to_bgr8

JPEG_SOI = b"\xff\xd8"
JPEG_SOS = b"\xff\xda"
JPEG_EOI = b"\xff\xd9"
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pnm"})


def is_truncated_jpeg(data: bytes) -> bool:
    """True when ``data`` starts like a JPEG but has no end-of-image marker after its last scan.

    Inside entropy-coded data every 0xFF byte is followed by 0x00 or a restart marker, so the
    first FFD9 after the last start-of-scan marker is the real end of the image (a thumbnail's
    EOI comes before the main scan; trailing bytes after the EOI are tolerated). OpenCV 5
    already refuses such files, but OpenCV 4 decodes them partially with only a warning; this
    check gives the same clear answer with both.
    """
    if not data.startswith(JPEG_SOI):
        return False
    last_scan = data.rfind(JPEG_SOS)
    return last_scan < 0 or data.find(JPEG_EOI, last_scan + 2) < 0


def decode_image(data: bytes, *, name: str = "image") -> np.ndarray:
    """Decode encoded image bytes to uint8 BGR (H, W, 3) (grayscale, alpha and 16-bit converted).

    Raises InvalidImageError, naming ``name``, for empty, truncated or undecodable data.
    """
    if not data:
        raise InvalidImageError(f"{name}: empty file")
    if is_truncated_jpeg(data):
        raise InvalidImageError(f"{name}: truncated JPEG (no end-of-image marker); the file is incomplete")
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise InvalidImageError(f"{name}: not an image OpenCV can decode (corrupt, or not an image file)")
    try:
        return to_bgr8(image)
    except InvalidImageError as exc:
        raise InvalidImageError(f"{name}: {exc}") from None


def read_image(path: str | Path) -> np.ndarray:
    """Read the image file at ``path`` as uint8 BGR (H, W, 3). Raises InvalidImageError with the
    file name and the reason (missing, a directory, empty, truncated, not an image)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidImageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InvalidImageError(f"{path}: is a directory, not an image file") from None
    except OSError as exc:
        raise InvalidImageError(f"{path}: cannot read ({exc.strerror})") from None
    return decode_image(data, name=str(path))


def list_images(directory: str | Path) -> list[Path]:
    """The image files (by suffix, case-insensitive) directly inside ``directory``, sorted by name."""
    directory = Path(directory)
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)

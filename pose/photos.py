"""Photos as people take them: any common format, upright, checked before they are decoded.

:func:`read_photo` reads JPEG, PNG, WebP, BMP, TIFF and GIF (the first frame) with Pillow and
returns uint8 BGR pixels the right way up: the EXIF orientation a phone writes is applied, so
keypoints refer to the upright image a viewer shows. The size the file declares is checked
against ``max_pixels`` from its header, before any pixel is decoded, so a small file that
declares 30000 x 30000 costs nothing. 16-bit, CMYK, grayscale, palette and alpha images are
converted (alpha is dropped, as a viewer on white would not show it: composited on black).

Every refusal is a :class:`~pose.errors.InvalidImageError` whose message names the file.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from pose.errors import InvalidImageError
from pose.imagefile import is_truncated_jpeg

#: Formats accepted, as Pillow names them.
PHOTO_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF", "MPO"})
PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})
MIN_SIDE = 8  # the network's stride
_ORIENTATION = 0x0112  # the EXIF tag


@dataclass(frozen=True)
class PhotoHeader:
    """What a photo file says about itself, read without decoding it.

    format: Pillow's name ("JPEG", "PNG", ...); width, height: the upright size in pixels (EXIF
    orientation applied, as :func:`read_photo` returns it); frames: 1, or more for an animated
    GIF/WebP/TIFF (only the first is used).
    """

    format: str
    width: int
    height: int
    frames: int


def read_header(data: bytes | Path, *, name: str, max_pixels: int | None = None) -> PhotoHeader:
    """The header of encoded photo ``data`` (bytes, or a file's path: only its first blocks are
    read); InvalidImageError naming ``name`` for an empty file,
    a format other than :data:`PHOTO_FORMATS`, anything Pillow cannot identify, a side under 8
    pixels, or more than ``max_pixels`` pixels."""
    if (data.stat().st_size == 0) if isinstance(data, Path) else not data:
        raise InvalidImageError(f"{name}: empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with _open(data) as image:
                _check_size(image.width, image.height, name, max_pixels)  # before anything else is read
                turned = _orientation(image) in (5, 6, 7, 8)  # a quarter turn
                width, height = (image.height, image.width) if turned else (image.width, image.height)
                header = PhotoHeader(format=str(image.format), width=width, height=height,
                                     frames=int(getattr(image, "n_frames", 1) or 1))
    except Image.DecompressionBombError:
        raise InvalidImageError(f"{name}: declares an enormous image (a decompression bomb?); refused") from None
    except InvalidImageError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise InvalidImageError(f"{name}: not an image (or a damaged one): JPEG, PNG, WebP, BMP, TIFF or GIF expected") from None
    if header.format not in PHOTO_FORMATS:
        raise InvalidImageError(f"{name}: {header.format} images are not accepted; use JPEG, PNG, WebP, BMP, TIFF or GIF")
    if header.format in ("JPEG", "MPO") and is_truncated_jpeg(data.read_bytes() if isinstance(data, Path) else data):
        raise InvalidImageError(f"{name}: cannot be decoded: the file is cut short (no JPEG end marker)")
    return header


def _check_size(width: int, height: int, name: str, max_pixels: int | None) -> None:
    if min(width, height) < MIN_SIDE:
        raise InvalidImageError(f"{name}: is {width}x{height} pixels; both sides must be at least {MIN_SIDE}")
    pixels = width * height
    if max_pixels is not None and pixels > max_pixels:
        raise InvalidImageError(
            f"{name}: is {width} x {height} = {pixels:,} pixels, over the limit of "
            f"{max_pixels:,} (MAX_IMAGE_PIXELS); scale it down first")


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation (1 = upright) without decoding pixels: Pillow's ``getexif`` decodes
    a whole PNG to look for an EXIF chunk after the image data, so PNGs (and others) are read
    from the EXIF block their header already gave; TIFF and JPEG keep theirs in the header."""
    if image.format in ("JPEG", "MPO", "TIFF"):
        return int(image.getexif().get(_ORIENTATION, 1) or 1)
    raw = image.info.get("exif")
    if not raw:
        return 1
    exif = Image.Exif()
    exif.load(raw)
    return int(exif.get(_ORIENTATION, 1) or 1)


def read_photo(data: bytes, *, name: str, max_pixels: int | None = None) -> np.ndarray:
    """Decode photo ``data`` to upright uint8 BGR (H, W, 3): the first frame, EXIF orientation
    applied. Raises InvalidImageError naming ``name`` (see :func:`read_header`; also a file cut
    short or damaged part way)."""
    read_header(data, name=name, max_pixels=max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with _open(data) as image:
                image.seek(0)
                image.load()
                upright = ImageOps.exif_transpose(image)
                rgb = _to_rgb(upright)
    except Image.DecompressionBombError:
        raise InvalidImageError(f"{name}: declares an enormous image (a decompression bomb?); refused") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        reason = "the file is cut short" if "truncated" in str(exc) else "the image data is damaged"
        raise InvalidImageError(f"{name}: cannot be decoded: {reason}") from None
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _open(data: bytes | Path) -> Image.Image:
    # Pillow refuses more than 2 x Image.MAX_IMAGE_PIXELS (~179 M) itself, before decoding.
    return Image.open(data if isinstance(data, Path) else io.BytesIO(data))


def _to_rgb(image: Image.Image) -> np.ndarray:
    """uint8 RGB (H, W, 3) from any Pillow mode: 16-bit scaled, CMYK/palette/alpha converted."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        gray = np.clip(array * (255.0 / top) + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if image.mode == "F":
        gray = np.clip(np.asarray(image, dtype=np.float64), 0, 1) * 255 + 0.5
        return np.repeat(gray.astype(np.uint8)[:, :, None], 3, axis=2)
    if image.mode != "RGB":
        image = image.convert("RGB")
    return np.asarray(image, dtype=np.uint8)

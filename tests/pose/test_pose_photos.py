"""pose.photos: photos read upright from any common format, refused by name before decoding."""
from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from pose.errors import InvalidImageError
from pose.photos import read_header, read_photo

SKIER = "000000000785.jpg"  # 640 x 425


@pytest.fixture(scope="module")
def photo(shared_data: Path) -> Image.Image:
    return Image.open(shared_data / "coco" / "images" / SKIER).convert("RGB")


def _encoded(image: Image.Image, fmt: str, **kw) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **kw)
    return out.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("orientation, size", [(1, (425, 640)), (3, (425, 640)), (6, (640, 425)), (8, (640, 425))])
def test_exif_orientation_gives_the_upright_picture(photo, orientation, size) -> None:
    exif = photo.getexif()
    exif[0x0112] = orientation
    data = _encoded(photo, "JPEG", exif=exif, quality=95)
    image = read_photo(data, name="phone.jpg")
    assert image.shape[:2] == size
    header = read_header(data, name="phone.jpg")
    assert (header.height, header.width) == size
    expected = np.asarray(photo)[:, :, ::-1]
    turned = {1: expected, 3: expected[::-1, ::-1], 6: np.rot90(expected, -1), 8: np.rot90(expected, 1)}[orientation]
    assert np.abs(image.astype(int) - turned).mean() < 3  # JPEG noise only


@pytest.mark.parametrize("mode, fmt", [("CMYK", "TIFF"), ("L", "PNG"), ("LA", "PNG"), ("RGBA", "PNG"), ("P", "GIF"),
                                       ("RGB", "WEBP"), ("RGB", "BMP")])
def test_other_modes_and_formats_become_bgr8(photo, mode, fmt) -> None:
    image = read_photo(_encoded(photo.convert(mode), fmt), name=f"x.{fmt.lower()}")
    assert image.dtype == np.uint8 and image.shape == (425, 640, 3)
    assert abs(float(image.mean()) - float(np.asarray(photo).mean())) < 8


def test_sixteen_bit_keeps_its_range_and_a_gif_gives_its_first_frame(photo) -> None:
    bgr = np.asarray(photo)[:, :, ::-1]
    deep = cv2.imencode(".png", bgr.astype(np.uint16) * 257)[1].tobytes()
    assert np.array_equal(read_photo(deep, name="deep.png"), bgr)
    frames = [photo.convert("P"), Image.new("RGB", photo.size, (255, 0, 0)).convert("P")]
    gif = _encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert read_header(gif, name="a.gif").frames == 2
    assert read_photo(gif, name="a.gif")[:, :, 2].mean() < 250  # not the red second frame


@pytest.mark.parametrize("data, message", [
    (b"", "empty file"),
    (b"GIF89a but nothing else", "not an image"),
    (b"%PDF-1.4", "not an image"),
    (png_declaring(30000, 30000), "decompression bomb"),
    (png_declaring(9000, 9000), "81,000,000 pixels, over the limit of 50,000,000 (MAX_IMAGE_PIXELS)"),
    (png_declaring(4, 400), "both sides must be at least 8"),
])
def test_refusals_name_the_file_and_decode_nothing(data, message) -> None:
    with pytest.raises(InvalidImageError) as refused:
        read_photo(data, name="upload.png", max_pixels=50_000_000)
    assert str(refused.value).startswith("upload.png: ") and message in str(refused.value)


def test_a_truncated_file_is_refused_from_its_header_or_when_decoded(photo) -> None:
    jpeg = _encoded(photo, "JPEG")
    with pytest.raises(InvalidImageError, match="cut.jpg: .*cut short"):
        read_header(jpeg[: len(jpeg) // 2], name="cut.jpg")
    png = _encoded(photo, "PNG")
    read_header(png[: len(png) // 2], name="cut.png")  # the header is whole
    with pytest.raises(InvalidImageError, match="cut.png: cannot be decoded"):
        read_photo(png[: len(png) // 2], name="cut.png")

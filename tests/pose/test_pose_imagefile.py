"""Reading image files: every kind of bad file gets a specific reason naming the file."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from pose import InvalidImageError, read_image
from pose.imagefile import is_truncated_jpeg, list_images


@pytest.fixture(scope="module")
def coco_jpeg(shared_data: Path) -> bytes:
    return (shared_data / "coco" / "images" / "000000000785.jpg").read_bytes()


def test_a_real_jpeg_reads_as_bgr8(tmp_path, coco_jpeg) -> None:
    path = tmp_path / "a.jpg"
    path.write_bytes(coco_jpeg)
    image = read_image(path)
    assert image.dtype == np.uint8 and image.shape == (425, 640, 3)
    assert not is_truncated_jpeg(coco_jpeg)
    assert not is_truncated_jpeg(coco_jpeg + b"\x00" * 10 + b"trailing bytes after the end marker")


@pytest.mark.parametrize("fraction", [0.2, 0.6, 0.999])
def test_a_truncated_jpeg_is_refused(tmp_path, coco_jpeg, fraction) -> None:
    cut = coco_jpeg[: int(len(coco_jpeg) * fraction)]
    assert is_truncated_jpeg(cut)
    path = tmp_path / "cut.jpg"
    path.write_bytes(cut)
    with pytest.raises(InvalidImageError, match=r"cut\.jpg: truncated JPEG"):
        read_image(path)


def test_other_bad_files_name_the_file_and_the_reason(tmp_path) -> None:
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("hello, not an image\n")
    (tmp_path / "folder.png").mkdir()
    cases = {"empty.png": "empty file", "text.jpg": "not an image", "folder.png": "is a directory",
             "missing.png": "no such file"}
    for name, reason in cases.items():
        with pytest.raises(InvalidImageError, match=f"{name}: {reason}"):
            read_image(tmp_path / name)


def test_grayscale_rgba_and_16_bit_files_become_bgr8(tmp_path) -> None:
    gray = np.tile(np.arange(64, dtype=np.uint8), (32, 1))
    bgra = np.dstack([gray, gray // 2, gray // 4, np.full_like(gray, 128)])
    deep = (gray.astype(np.uint16) * 257)[:, :, None].repeat(3, axis=2)
    for name, image in (("gray.png", gray), ("rgba.png", bgra), ("deep.png", deep)):
        assert cv2.imwrite(str(tmp_path / name), image)
    np.testing.assert_array_equal(read_image(tmp_path / "gray.png"), np.dstack([gray] * 3))
    np.testing.assert_array_equal(read_image(tmp_path / "rgba.png"), bgra[:, :, :3])
    assert cv2.imread(str(tmp_path / "deep.png"), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    np.testing.assert_array_equal(read_image(tmp_path / "deep.png"), np.dstack([gray] * 3))


def test_list_images_picks_image_suffixes_only(tmp_path) -> None:
    for name in ("b.JPG", "a.png", "notes.txt", "c.jpeg"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub.jpg").mkdir()
    assert [p.name for p in list_images(tmp_path)] == ["a.png", "b.JPG", "c.jpeg"]

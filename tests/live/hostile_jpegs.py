"""Hostile JPEGs built here, from a real encoder's output, for the live frame checks:
- :func:`repeated_scan`: a progressive 1280x720 JPEG whose first luma AC scan is repeated
  ``repeats`` times (the probe's 524 KB frame repeated it 42,839 times: 9 s of decoding, within
  both size limits). libjpeg decodes every repeat as one more pass over the whole picture.
- :func:`claiming`: a small JPEG whose frame header is rewritten to claim a larger size (libjpeg
  decodes it at the claimed size, the missing data as grey, with only a warning)."""
from __future__ import annotations

import re

import cv2
import numpy as np

_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7]")


def _scans(data: bytes) -> list[tuple[int, int, bytes]]:
    """(start, end, SOS header) of every scan, walking the markers of ``data``."""
    pos, scans = 2, []
    while data[pos + 1] != 0xD9:
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if data[pos + 1] == 0xDA:
            end = _SCAN_END.search(data, pos + 2 + length).start()
            scans.append((pos, end, data[pos + 4:pos + 2 + length]))
            pos = end
        else:
            pos += 2 + length
    return scans


def repeated_scan(repeats: int, width: int = 1280, height: int = 720) -> bytes:
    image = cv2.GaussianBlur(np.random.default_rng(0).integers(0, 255, (height, width, 3), np.uint8), (31, 31), 0)
    data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1, cv2.IMWRITE_JPEG_QUALITY, 30])[1].tobytes()
    # The first scan of one component (Ns = 1) starting at coefficient 1 (Ss = 1): luma's first AC scan.
    start, end, _ = next(s for s in _scans(data) if s[2][0] == 1 and s[2][3] == 1)
    return data[:end] + data[start:end] * repeats + data[end:]


def claiming(width: int, height: int, *, progressive: bool = False, real: int = 16) -> bytes:
    data = bytearray(cv2.imencode(".jpg", np.full((real, real, 3), 120, np.uint8),
                                  [cv2.IMWRITE_JPEG_PROGRESSIVE, int(progressive)])[1].tobytes())
    sof = data.find(b"\xff\xc2" if progressive else b"\xff\xc0")
    data[sof + 5:sof + 7], data[sof + 7:sof + 9] = height.to_bytes(2, "big"), width.to_bytes(2, "big")
    return bytes(data)

"""One live frame: a JPEG as the browser's canvas encodes it, checked before it is decoded.

A frame that is too many bytes, by its JPEG header too many pixels, or a progressive JPEG of
more than ``MAX_SCANS`` scans is refused (413) before any pixel is decoded, so neither a small
file that would decode to a huge image nor one that repeats a scan tens of thousands of times
(each scan is one more pass over the whole picture: ~0.2 ms at 1280x720, 9 s for 42,839) costs
more than a normal frame. A frame whose entropy-coded data is too short for the size its header
claims (a 16x16 picture with a 1280x720 header: libjpeg fills the rest with grey and only warns)
is a 400, as is anything else that is not a JPEG that decodes. Images are uint8 (H, W, 3) BGR,
as the models take them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

#: JPEG start-of-frame markers (baseline, extended, progressive, lossless; not DHT/JPG/DAC).
_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
#: Of those, the arithmetic-coded ones (no browser makes them; their data has no lower bound).
_ARITHMETIC_SOF = frozenset({0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
#: Scans a frame may have: a baseline JPEG (what a canvas encodes) has 1, libjpeg's progressive
#: script 10 for colour, mozjpeg's optimised ones a few more.
MAX_SCANS = 100
#: Marker segments a frame may have (tables, comments, scans...): a progressive JPEG of
#: MAX_SCANS scans has a few hundred; more is padding that only costs time to walk.
MAX_MARKERS = 1000
#: The end of a scan's entropy-coded data: a marker (0xFF not followed by a stuffed 0x00 or a
#: restart marker, which belong to the data).
_END_OF_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7]")


class FrameError(ValueError):
    """A frame that cannot be used; ``status`` is the HTTP status that says why (400 or 413)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class JpegLayout:
    """What a JPEG's markers say, read without decoding: its frame header's ``width`` and
    ``height``, its number of ``scans``, the bytes of entropy-coded data they hold all told
    (``scan_bytes``), whether it is ``arithmetic``-coded, and its number of marker segments
    (``markers``). A walk stopped at ``max_markers`` counts no further."""

    width: int
    height: int
    scans: int
    scan_bytes: int
    arithmetic: bool
    markers: int = 0

    @property
    def min_scan_bytes(self) -> int:
        """The fewest bytes of Huffman-coded data that can hold this picture: every 8x8 block of
        its first component codes at least its DC value, in at least one bit."""
        return ((self.width + 7) // 8) * ((self.height + 7) // 8) // 8


def jpeg_layout(data: bytes, *, max_markers: int | None = None) -> JpegLayout | None:
    """The layout of the JPEG in ``data``, or None when it is not a JPEG (or its header ends
    before its frame header). Marker segments are skipped by their lengths, scans' data up to
    the next marker (a regular-expression search); the walk stops after ``max_markers`` segments
    (None: all), so its cost is bounded whatever the bytes hold."""
    if len(data) < 4 or data[:2] != b"\xff\xd8":
        return None
    size: tuple[int, int] | None = None
    arithmetic, scans, scan_bytes, markers = False, 0, 0, 0
    pos = 2
    while pos + 4 <= len(data) and (max_markers is None or markers <= max_markers):
        if data[pos] != 0xFF:
            if size is None:
                return None
            pos = data.find(b"\xff", pos)  # stray bytes between segments: libjpeg skips them too
            if pos < 0:
                break
            continue
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:  # end of image
            break
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        markers += 1
        if marker in _SOF_MARKERS and size is None:
            if pos + 9 > len(data):
                return None
            size = int.from_bytes(data[pos + 7:pos + 9], "big"), int.from_bytes(data[pos + 5:pos + 7], "big")
            arithmetic = marker in _ARITHMETIC_SOF
        if length < 2 or (marker == 0xDA and size is None):  # image data before any frame header
            return None
        pos += 2 + length
        if marker == 0xDA:
            scans += 1
            end = _END_OF_SCAN.search(data, pos)
            stop = end.start() if end else len(data)
            scan_bytes += max(0, stop - pos)
            pos = stop
    if size is None and (max_markers is None or markers <= max_markers):
        return None
    size = size or (0, 0)  # the walk stopped at max_markers before the frame header
    return JpegLayout(width=size[0], height=size[1], scans=scans, scan_bytes=scan_bytes, arithmetic=arithmetic,
                      markers=markers)


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's start-of-frame header, or None when ``data`` is not a JPEG
    (or its header ends before one)."""
    layout = jpeg_layout(data)
    return None if layout is None else (layout.width, layout.height)


def decode_frame(data: bytes, *, max_bytes: int, max_pixels: int) -> np.ndarray:
    """The frame in ``data`` as uint8 (H, W, 3) BGR. Raises FrameError: 413 over ``max_bytes``,
    ``max_pixels`` (width x height), :data:`MAX_SCANS` scans or :data:`MAX_MARKERS` marker
    segments; 400 when it is empty, not a JPEG, arithmetic-coded, holds too little data for its
    size, or does not decode."""
    if len(data) > max_bytes:
        raise FrameError(f"The frame is {len(data):,} bytes, over the live limit of {max_bytes:,} bytes "
                         "(LIVE_MAX_FRAME_KB); send smaller JPEG frames (480 px high is plenty).", status=413)
    if not data:
        raise FrameError("The frame is empty: send one JPEG image as the request body.", status=400)
    layout = jpeg_layout(data, max_markers=MAX_MARKERS)
    if layout is None:
        raise FrameError("The frame is not a JPEG image: send one JPEG image (image/jpeg) as the request "
                         "body.", status=400)
    if layout.scans > MAX_SCANS or layout.markers > MAX_MARKERS:
        raise FrameError(f"The frame is a JPEG of more than {MAX_SCANS} scans or {MAX_MARKERS:,} marker segments, "
                         "the live limits (each scan is one more pass over the picture); send a baseline JPEG "
                         "(a canvas's toBlob makes one).", status=413)
    width, height = layout.width, layout.height
    if width < 8 or height < 8:
        raise FrameError(f"The frame is {width}x{height} pixels; it needs at least 8 a side.", status=400)
    if width * height > max_pixels:
        raise FrameError(f"The frame is {width}x{height} = {width * height:,} pixels, over the live limit of "
                         f"{max_pixels:,} (LIVE_MAX_FRAME_PIXELS); scale it down before sending.", status=413)
    if layout.arithmetic:
        raise FrameError("The frame is an arithmetic-coded JPEG; send a baseline JPEG (a canvas's toBlob "
                         "makes one).", status=400)
    if layout.scan_bytes < layout.min_scan_bytes:
        raise FrameError(f"The frame's JPEG data is damaged: its header says {width}x{height} pixels, but it "
                         f"holds {layout.scan_bytes:,} bytes of image data, too few for that size.", status=400)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.shape[:2] != (height, width):
        raise FrameError("The frame's JPEG data is damaged: it does not decode.", status=400)
    return image

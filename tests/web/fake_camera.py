"""A fake camera for chromium: a real clip turned into the ``.y4m`` file that
``--use-file-for-fake-video-capture`` plays in a loop (see ../shared/TESTING.md).

A ``.y4m`` is a text header (``YUV4MPEG2 W640 H360 F30:1 Ip A1:1 C420jpeg``), then per frame
``FRAME`` and a newline and the raw yuv420p planes (Y, then U and V at half size). It is
uncompressed (640 x 360 x 1.5 bytes a frame), so keep it small: 640 px wide, a few seconds.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av

#: chromium's launch arguments for a fake camera that plays ``FILE.y4m``. Without
#: ``--use-fake-ui-for-media-stream`` the camera permission is real: a context made with
#: ``permissions=["camera"]`` gets the camera, one without is refused (NotAllowedError), as a
#: person who clicked "Block" is.
FAKE_CAMERA_ARGS = ["--use-fake-device-for-media-stream"]


def fake_camera_args(y4m: Path) -> list[str]:
    return [*FAKE_CAMERA_ARGS, f"--use-file-for-fake-video-capture={y4m}"]


def write_y4m(video: Path, out: Path, *, width: int = 640, seconds: float = 4.0, start_s: float = 0.0) -> Path:
    """Decode ``video`` from ``start_s`` for ``seconds`` with PyAV, scaled to ``width`` px wide (the
    height follows the aspect ratio, rounded to an even number), into the y4m file ``out``."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        rate = Fraction(stream.average_rate or 30).limit_denominator(1001)
        height = None
        frames = 0
        with open(out, "wb") as f:
            for frame in container.decode(stream):
                t = float(frame.time or 0.0)
                if t < start_s:
                    continue
                if t >= start_s + seconds:
                    break
                if height is None:
                    height = int(round(frame.height * width / frame.width / 2)) * 2
                    f.write(f"YUV4MPEG2 W{width} H{height} F{rate.numerator}:{rate.denominator} "
                            "Ip A1:1 C420jpeg\n".encode())
                image = frame.reformat(width=width, height=height, format="yuv420p")
                f.write(b"FRAME\n")
                for index, (w, h) in enumerate(((width, height), (width // 2, height // 2), (width // 2, height // 2))):
                    plane = image.planes[index]
                    data = memoryview(plane)
                    for row in range(h):
                        f.write(data[row * plane.line_size: row * plane.line_size + w])
                frames += 1
    if not frames:
        raise ValueError(f"{video}: no frames between {start_s} and {start_s + seconds} s")
    return out

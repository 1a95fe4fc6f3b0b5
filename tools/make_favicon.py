"""Draw static/favicon.ico: the figure of static/favicon.svg (a skeleton with its joints, the
header's colours), at 16, 32 and 48 px. Run from the repository root after changing the SVG:
``.venv/bin/python tools/make_favicon.py``."""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
BACKGROUND, LIMB, JOINT = "#132235", "#7cc4ff", "#ffffff"
#: The SVG's lines and dots, in its 32 x 32 view box.
LINES = [[(16, 11.5), (16, 19)], [(9, 9), (12.5, 14), (16, 13), (19.5, 14), (23, 9)],
         [(11, 27), (13, 22.5), (16, 19), (19, 22.5), (21, 27)]]
JOINTS = [(12.5, 14), (19.5, 14), (13, 22.5), (19, 22.5)]


def draw(size: int) -> Image.Image:
    scale = 8 * size / 32  # drawn at 8x, then scaled down smoothly
    big = Image.new("RGBA", (8 * size, 8 * size), (0, 0, 0, 0))
    pen = ImageDraw.Draw(big)
    pen.rounded_rectangle((0, 0, 8 * size - 1, 8 * size - 1), radius=7 * scale, fill=BACKGROUND)
    for line in LINES:
        points = [(x * scale, y * scale) for x, y in line]
        pen.line(points, fill=LIMB, width=round(2.6 * scale), joint="curve")
        for x, y in points:
            pen.ellipse((x - 1.3 * scale, y - 1.3 * scale, x + 1.3 * scale, y + 1.3 * scale), fill=LIMB)
    pen.ellipse(((16 - 3) * scale, (7.2 - 3) * scale, (16 + 3) * scale, (7.2 + 3) * scale), fill=LIMB)
    for x, y in JOINTS:
        pen.ellipse(((x - 1.3) * scale, (y - 1.3) * scale, (x + 1.3) * scale, (y + 1.3) * scale), fill=JOINT)
    return big.resize((size, size), Image.LANCZOS)


if __name__ == "__main__":
    icon = draw(48)
    icon.save(ROOT / "static" / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)],
              append_images=[draw(16), draw(32)])
    print(ROOT / "static" / "favicon.ico", (ROOT / "static" / "favicon.ico").stat().st_size, "bytes")

"""Draw the app icons (PNG) once; they are committed. Needs Pillow (a dev tool, not a runtime dependency)."""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "static" / "icons"
ACCENT = (229, 72, 77)


def flower(size: int, maskable: bool) -> Image.Image:
    img = Image.new("RGBA", (size, size), ACCENT if maskable else (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if not maskable:
        r = size * 0.22
        d.rounded_rectangle([0, 0, size - 1, size - 1], radius=r, fill=ACCENT)
    # A little red flower: five white petals round a warm centre. Maskable icons
    # keep everything inside the 80% safe zone.
    scale = 0.6 if maskable else 0.78
    c = size / 2
    petal = size * 0.16 * scale / 0.78
    ring = size * 0.17 * scale / 0.78
    import math
    for i in range(5):
        a = math.radians(-90 + i * 72)
        x, y = c + ring * math.cos(a), c + ring * math.sin(a)
        d.ellipse([x - petal, y - petal, x + petal, y + petal], fill=(255, 255, 255))
    core = size * 0.09 * scale / 0.78
    d.ellipse([c - core, c - core, c + core, c + core], fill=(255, 196, 71))
    return img


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        flower(size, False).save(OUT / f"icon-{size}.png", optimize=True)
        flower(size, True).save(OUT / f"maskable-{size}.png", optimize=True)
    flower(180, True).convert("RGB").save(OUT / "apple-touch-icon.png", optimize=True)
    print("icons written to", OUT)


if __name__ == "__main__":
    main()

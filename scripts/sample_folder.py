"""Generate a small road-signs folder: class folders, a nested folder, a root file, many formats."""

from __future__ import annotations

import random
from pathlib import Path

import pillow_heif
from PIL import Image, ImageDraw

pillow_heif.register_heif_opener()

SIGNS: dict[str, tuple[str, int]] = {
    "stop": ("#c8102e", 8),
    "yield": ("#f2f2f2", 3),
    "speed": ("#ffffff", 0),
}
FORMATS = [
    ("jpg", "JPEG"),
    ("png", "PNG"),
    ("webp", "WEBP"),
    ("bmp", "BMP"),
    ("gif", "GIF"),
    ("tiff", "TIFF"),
]


def draw_sign(kind: str, seed: int) -> Image.Image:
    """A 96x96 picture of a road sign on a random sky, different for every seed."""
    rng = random.Random(seed)
    sky = (rng.randint(90, 160), rng.randint(140, 200), rng.randint(200, 255))
    image = Image.new("RGB", (96, 96), sky)
    draw = ImageDraw.Draw(image)
    fill, sides = SIGNS[kind]
    box = (18 + rng.randint(-6, 6), 18 + rng.randint(-6, 6))
    if sides:
        draw.regular_polygon((box[0] + 30, box[1] + 30, 30), sides, fill=fill, outline="#111111")
    else:
        draw.ellipse(
            (box[0], box[1], box[0] + 60, box[1] + 60), fill=fill, outline="#c8102e", width=6
        )
    return image


def make_sample_folder(root: Path) -> int:
    """Write the sample folder under ``root`` and return how many image files it holds."""
    count = 0
    for index, kind in enumerate(sorted(SIGNS)):
        folder = root / kind
        folder.mkdir(parents=True, exist_ok=True)
        for n in range(4):
            suffix, fmt = FORMATS[(index + n) % len(FORMATS)]
            draw_sign(kind, index * 100 + n).save(folder / f"{kind}_{n:03d}.{suffix}", fmt)
            count += 1
    night = root / "stop" / "night"
    night.mkdir(parents=True, exist_ok=True)
    draw_sign("stop", 999).convert("L").convert("RGB").save(night / "stop_night_000.jpg", "JPEG")
    draw_sign("yield", 998).save(root / "yield" / "yield_iphone.heic", "HEIF")
    draw_sign("speed", 997).save(root / "unsorted_000.jpg", "JPEG")
    return count + 3


if __name__ == "__main__":
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "road_signs")
    print(f"{make_sample_folder(target)} images written under {target}")

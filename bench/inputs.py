"""Benchmark inputs, generated once and cached under bench/.data (random pixels, real JPEGs)."""

from __future__ import annotations

import os
import random
from pathlib import Path

from PIL import Image

DATA = Path(__file__).resolve().parent / ".data"

#: name -> (file count, class folders, (min, max) side in pixels, JPEG quality)
SETS: dict[str, tuple[int, int, tuple[int, int], int]] = {
    "5k": (5_000, 10, (125, 250), 90),  # about 15-60 KB each
    "large": (200, 4, (1450, 2250), 92),  # about 2-5 MB each
    "50k": (50_000, 10, (17, 22), 75),  # about 1 KB each
}


def folder_for(name: str) -> Path:
    """The folder of benchmark set ``name``, generated on first use."""
    folder = DATA / name
    marker = folder / ".complete"
    if not marker.exists():
        _generate(folder, *SETS[name])
        marker.write_text("ok\n")
    return folder


def _generate(folder: Path, count: int, classes: int, sides: tuple[int, int], quality: int) -> None:
    rng = random.Random(count)
    for n in range(count):
        side = rng.randint(*sides)
        path = folder / f"class{n % classes:02d}" / f"img{n:06d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        pixels = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
        pixels.save(path, "JPEG", quality=quality)

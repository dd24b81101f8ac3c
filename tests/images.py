"""Real image files for tests, in every supported format, made with Pillow."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pillow_heif
from PIL import Image, ImageDraw

pillow_heif.register_heif_opener()

#: File suffix -> Pillow format name, for every suffix a folder upload walks.
FORMATS: dict[str, str] = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".gif": "GIF",
    ".heic": "HEIF",
}


def make_image(
    path: Path, fmt: str | None = None, size: tuple[int, int] = (32, 24), seed: int = 0
) -> Path:
    """Write a small real image at ``path`` (format from the suffix unless ``fmt``); return it."""
    rng = random.Random(f"{path.name}:{seed}")
    image = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    image.putpixel((0, 0), (rng.randrange(256), 0, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, fmt or FORMATS[path.suffix.lower()])
    return path


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def huge_png(path: Path, width: int, height: int) -> Path:
    """A valid black RGB PNG of ``width`` x ``height`` written row by row, never whole in memory
    (13,000 x 13,000 pixels come to about half a megabyte)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + 3 * width)  # filter byte, then RGB
    compressed = bytearray()
    for _ in range(height):
        compressed += packer.compress(row)
    compressed += packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", bytes(compressed))
        + chunk(b"IEND", b"")
    )
    return path


def large_scene(path: Path, side: int, seed: int) -> Path:
    """A ``side`` x ``side`` PNG of smooth random colour (a small noise image scaled up): as
    costly to decode as any picture of its size, yet quick to write and a few MiB at most."""
    rng = random.Random(seed)
    small = Image.frombytes("RGB", (24, 24), rng.randbytes(24 * 24 * 3))
    path.parent.mkdir(parents=True, exist_ok=True)
    small.resize((side, side), Image.Resampling.BILINEAR).save(path, compress_level=1)
    return path


def scene(path: Path, seed: int, size: tuple[int, int] = (160, 120)) -> Path:
    """A picture of random coloured shapes (different for each seed)."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        box = (x, y, x + rng.randrange(20, 80), y + rng.randrange(20, 60))
        draw.ellipse(box, fill=tuple(rng.randrange(256) for _ in range(3)))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path

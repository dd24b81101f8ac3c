"""Benchmark inputs: photo-like JPEGs (smooth shapes plus fine detail, never solid colours),
generated deterministically once and cached under the temp dir (``$TMPDIR/pictograph-bench``)."""

from __future__ import annotations

import io
import random
import tempfile
from pathlib import Path

from PIL import Image

DATA = Path(tempfile.gettempdir()) / "pictograph-bench"

#: name -> (file count, class folders, (width, height), detail 0..1, JPEG quality)
SETS: dict[str, tuple[int, int, tuple[int, int], float, int]] = {
    "50KB": (5_000, 10, (300, 300), 0.28, 90),  # about 50 KB each
    # Enough files that a run lasts seconds: each run's process start-up is in its time.
    "300KB": (1_500, 5, (1024, 768), 0.17, 89),  # about 300 KB each
    "3MB": (120, 4, (4000, 3000), 0.11, 87),  # about 3 MB each
    "50k": (50_000, 10, (20, 20), 0.5, 75),  # about 1 KB each: the re-run set
}


def folder_for(name: str) -> Path:
    """The folder of benchmark set ``name``, generated on first use."""
    folder = DATA / name
    marker = folder / ".complete"
    if not marker.exists():
        _generate(folder, *SETS[name])
        marker.write_text("ok\n")
    return folder


def photo(rng: random.Random, size: tuple[int, int], detail: float, quality: int) -> bytes:
    """JPEG bytes of a photo-like picture: bicubic-smoothed colour fields blended with noise."""
    width, height = size
    coarse = (max(2, width // 40), max(2, height // 40))
    base = Image.frombytes("RGB", coarse, rng.randbytes(coarse[0] * coarse[1] * 3))
    noise = Image.frombytes("RGB", size, rng.randbytes(width * height * 3))
    out = io.BytesIO()
    Image.blend(base.resize(size, Image.Resampling.BICUBIC), noise, detail).save(
        out, "JPEG", quality=quality
    )
    return out.getvalue()


def _generate(
    folder: Path, count: int, classes: int, size: tuple[int, int], detail: float, quality: int
) -> None:
    rng = random.Random(f"{count}:{size}")
    for n in range(count):
        path = folder / f"class{n % classes:02d}" / f"img{n:06d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(photo(rng, size, detail, quality))

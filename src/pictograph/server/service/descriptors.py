"""A small visual fingerprint per image for ``search/similar``: a 64-bit difference hash (shape)
and a 4x4 RGB thumbnail (colour), compared by Hamming and mean absolute distance.

Made lazily, the first time a search needs an image's descriptor, and kept in
``image_descriptors``; so images stored before this existed get one too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from PIL import Image, ImageOps

from pictograph.server.imaging import DecodeBudget, prepare_decoders
from pictograph.server.service.context import AppContext
from pictograph.server.store import tables as t

_D = t.image_descriptors
_HASH_HEX = 16


def describe(source: Any, budget: DecodeBudget) -> str:
    """The descriptor of the image file ``source`` (a path or an open binary file): 16 hex digits
    of dHash + 96 of colour. The decode waits for room in ``budget``, as every decode does."""
    prepare_decoders()
    with Image.open(source) as image:
        image.draft("RGB", (64, 64))  # JPEG decodes at a fraction of its size: much faster
        with budget.reserve(image):
            rgb = ImageOps.exif_transpose(image).convert("RGB")
    grey = rgb.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
    pixels = list(grey.getdata())
    bits = 0
    for row in range(8):
        for column in range(8):
            left, right = pixels[row * 9 + column], pixels[row * 9 + column + 1]
            bits = (bits << 1) | (1 if left > right else 0)
    colour = rgb.resize((4, 4), Image.Resampling.BOX).tobytes()
    return f"{bits:016x}{colour.hex()}"


def similarity(a: str, b: str) -> float:
    """How alike two descriptors are, in [0, 1] (1: the same picture)."""
    shape = 1 - bin(int(a[:_HASH_HEX], 16) ^ int(b[:_HASH_HEX], 16)).count("1") / 64
    ca, cb = bytes.fromhex(a[_HASH_HEX:]), bytes.fromhex(b[_HASH_HEX:])
    colour = 1 - sum(abs(x - y) for x, y in zip(ca, cb, strict=True)) / (255 * len(ca))
    return min(1.0, max(0.0, 0.5 * shape + 0.5 * colour))


def descriptors(store: AppContext, rows: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Image id -> descriptor for ``rows`` (each with ``id`` and ``blob_key``), computing and
    storing the missing ones. An image whose bytes cannot be read is left out."""
    wanted = {row["id"]: row["blob_key"] for row in rows}
    found: dict[str, str] = {}
    ids = list(wanted)
    with store.read() as conn:
        for start in range(0, len(ids), 500):
            query = sa.select(_D).where(_D.c.image_id.in_(ids[start : start + 500]))
            found |= {row.image_id: row.descriptor for row in conn.execute(query)}
    made: dict[str, str] = {}
    for image_id, key in wanted.items():
        if image_id in found:
            continue
        try:
            with store.blobs.open(key) as source:
                made[image_id] = describe(source, store.decoding)
        except Exception:  # noqa: S112 (missing or undecodable bytes: no descriptor, no match)
            continue
    if made:
        with store.write() as conn:
            present = set(
                conn.execute(sa.select(_D.c.image_id).where(_D.c.image_id.in_(list(made))))
                .scalars()
                .all()
            )
            fresh = [{"image_id": i, "descriptor": d} for i, d in made.items() if i not in present]
            if fresh:
                conn.execute(_D.insert(), fresh)
    return found | made

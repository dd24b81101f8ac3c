"""Geometry every export format needs from a stored annotation: its box, its polygon rings, the
area of a ring, and a box as a COCO run-length mask."""

from __future__ import annotations

from typing import Any

Ring = list[tuple[float, float]]


def box(raw: dict[str, Any]) -> tuple[float, float, float, float]:
    """``(x, y, w, h)`` of a stored ``bounding_box``."""
    return float(raw["x"]), float(raw["y"]), float(raw["w"]), float(raw["h"])


def rings(item: dict[str, Any]) -> list[Ring]:
    """The polygon's rings with at least three points (the first is the outline)."""
    paths = (item.get("polygon") or {}).get("paths") or []
    return [[(float(p["x"]), float(p["y"])) for p in ring] for ring in paths if len(ring) >= 3]


def enclose(ring: Ring) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


def shoelace(ring: Ring) -> float:
    pairs = zip(ring, ring[1:] + ring[:1], strict=True)
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in pairs) / 2.0


def kind(item: Any) -> str | None:
    """``bbox`` or ``polygon`` for an annotation those formats carry, else None."""
    if not isinstance(item, dict):
        return None
    if item.get("type") == "bbox" and isinstance(item.get("bounding_box"), dict):
        return "bbox"
    if item.get("type") == "polygon" and rings(item):
        return "polygon"
    return None


def outer_box(item: dict[str, Any]) -> tuple[float, float, float, float]:
    """The box of a ``bbox``, or the stored (else enclosing) box of a ``polygon``."""
    if isinstance(item.get("bounding_box"), dict):
        return box(item["bounding_box"])
    return enclose(rings(item)[0])


def box_rle(bounds: tuple[float, float, float, float], width: int, height: int) -> dict[str, Any]:
    """The box as a compressed COCO RLE mask (``{"size": [h, w], "counts": str}``), the form
    pycocotools' ``annToMask`` decodes, and that COCO readers do not mistake for a polygon.

    Pixels are counted column by column (COCO's Fortran order); edges are rounded to pixels.
    """
    x, y, w, h = bounds
    x0, x1 = (min(max(round(v), 0), width) for v in (x, x + w))
    y0, y1 = (min(max(round(v), 0), height) for v in (y, y + h))
    runs: list[int] = []  # alternating zeros and ones, starting with zeros

    def add(value: int, length: int) -> None:
        if length == 0 and runs:
            return
        if len(runs) % 2 == value:
            runs.append(length)
        else:
            runs[-1] += length

    add(0, x0 * height)
    if x1 > x0 and y1 > y0:
        for _ in range(x0, x1):
            add(0, y0)
            add(1, y1 - y0)
            add(0, height - y1)
    add(0, (width - max(x1, x0)) * height)
    return {"size": [height, width], "counts": _compress(runs)}


def _compress(counts: list[int]) -> str:
    """pycocotools' ``rleToString``: each count (less the count two before it, from the third
    on) in 5-bit groups, continuation bit 0x20, offset by 48."""
    out = []
    for index, count in enumerate(counts):
        value = count - counts[index - 2] if index > 2 else count
        more = True
        while more:
            chunk = value & 0x1F
            value >>= 5
            more = value != -1 if chunk & 0x10 else value != 0
            out.append(chr((chunk | (0x20 if more else 0)) + 48))
    return "".join(out)

"""The four annotation shapes: checked and normalised on save, made SDK-readable on read.

The official SDK reads annotations with ``extra="forbid"``, boxes must have w > 0 and h > 0,
keypoints carry no box and ``confidence`` is never null: what we store and send keeps to that.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from pictograph.errors import ValidationError
from pictograph.server.service.classes import admits

TYPES = ("bbox", "polygon", "polyline", "keypoint")
#: Most points one polygon or polyline may have (all its rings together).
MAX_POINTS = 10_000
#: How far (in pixels) a shape may reach past the image's edge: float rounding of exports.
EDGE_TOLERANCE = 1.0
_COMMON = ("id", "name", "type", "confidence", "created_by", "attributes", "instance_id")
_GEOMETRY = {
    "bbox": ("bounding_box", "oriented_box"),
    "polygon": ("polygon", "bounding_box"),
    "polyline": ("polyline", "bounding_box"),
    "keypoint": ("keypoint",),
}


def check(
    item: Any, index: int, classes: list[dict[str, Any]], size: tuple[int, int] | None = None
) -> dict[str, Any]:
    """``item`` in canonical form; ``ValidationError`` (400 for a class the dataset lacks, by
    name and type; 422 for a bad shape, one of over ``MAX_POINTS`` points, or one outside the
    image of ``size`` pixels when it is known) naming the annotation's position."""
    where = f"annotation {index}"
    if not isinstance(item, dict):
        raise ValidationError(f"{where} is not an object")
    kind = item.get("type")
    if kind not in TYPES:
        raise ValidationError(f"{where}: type {kind!r} is not one of {', '.join(TYPES)}")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValidationError(f"{where}: a non-blank class name is required")
    if not admits(classes, name, kind):
        if not any(c.get("name") == name for c in classes):
            raise ValidationError(f"Class '{name}' not in project", status_code=400)
        raise ValidationError(f"Class '{name}' of type {kind} not in project", status_code=400)
    confidence = item.get("confidence", 1.0)
    if confidence is None:
        confidence = 1.0
    if not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
        raise ValidationError(f"{where}: confidence must be a number in [0, 1]")
    result = {key: item[key] for key in _COMMON if item.get(key) is not None}
    result["id"] = str(item.get("id") or uuid.uuid4())
    result["confidence"] = float(confidence)
    result.setdefault("attributes", [])
    try:
        result.update(_geometry(kind, item))
    except (KeyError, TypeError, ValueError) as error:
        raise ValidationError(f"{where}: malformed {kind} geometry ({error})") from None
    if size is not None:
        _inside(result, size, where)
    return result


def _corners(item: dict[str, Any]) -> list[dict[str, float]]:
    if item["type"] == "bbox":
        box = item["bounding_box"]
        return [
            {"x": box["x"], "y": box["y"]},
            {"x": box["x"] + box["w"], "y": box["y"] + box["h"]},
        ]
    if item["type"] == "keypoint":
        return [item["keypoint"]]
    if item["type"] == "polygon":
        return [p for ring in item["polygon"]["paths"] for p in ring]
    return list(item["polyline"]["path"])


def _inside(item: dict[str, Any], size: tuple[int, int], where: str) -> None:
    width, height = size
    for p in _corners(item):
        if not (
            -EDGE_TOLERANCE <= p["x"] <= width + EDGE_TOLERANCE
            and -EDGE_TOLERANCE <= p["y"] <= height + EDGE_TOLERANCE
        ):
            raise ValidationError(
                f"{where}: the {item['type']} reaches outside the {width}x{height} image "
                f"(point {p['x']:g},{p['y']:g})"
            )


def _point(raw: Any) -> dict[str, float]:
    point = {"x": float(raw["x"]), "y": float(raw["y"])}
    if not all(math.isfinite(v) for v in point.values()):
        raise ValueError("coordinates must be finite numbers")
    return point


def _points(raw: Any, counted: int = 0) -> list[dict[str, float]]:
    if not isinstance(raw, list):
        raise TypeError("points must be a list")
    if counted + len(raw) > MAX_POINTS:
        raise ValueError(f"at most {MAX_POINTS} points per shape")
    return [_point(p) for p in raw]


def _box(raw: Any) -> dict[str, float]:
    box = {key: float(raw[key]) for key in ("x", "y", "w", "h")}
    if box["w"] <= 0 or box["h"] <= 0:
        raise ValueError("a box needs w > 0 and h > 0")
    return box


def _geometry(kind: str, item: dict[str, Any]) -> dict[str, Any]:
    if kind == "bbox":
        found: dict[str, Any] = {"bounding_box": _box(item["bounding_box"])}
        if item.get("oriented_box") is not None:
            found["oriented_box"] = dict(item["oriented_box"])
        return found
    if kind == "keypoint":
        if item.get("bounding_box") is not None:
            raise ValueError("a keypoint has no bounding_box")
        return {"keypoint": _point(item["keypoint"])}
    if kind == "polygon":
        rings: list[list[dict[str, float]]] = []
        for ring in item["polygon"]["paths"]:
            rings.append(_points(ring, sum(len(r) for r in rings)))
        if not rings or any(len(ring) < 3 for ring in rings):
            raise ValueError("a polygon needs rings of at least 3 points")
        found = {"polygon": {"paths": rings}}
        points = rings[0]
    else:
        path = _points(item["polyline"]["path"])
        if len(path) < 2:
            raise ValueError("a polyline needs at least 2 points")
        found = {"polyline": {"path": path}}
        points = path
    enclosure = enclose(points)
    if enclosure is not None:
        found["bounding_box"] = enclosure
    return found


def enclose(points: list[dict[str, float]]) -> dict[str, float] | None:
    """The axis-aligned box around ``points``; None when it would have no width or height."""
    xs, ys = [p["x"] for p in points], [p["y"] for p in points]
    box = {"x": min(xs), "y": min(ys), "w": max(xs) - min(xs), "h": max(ys) - min(ys)}
    return box if box["w"] > 0 and box["h"] > 0 else None


def readable(item: Any) -> Any:
    """A stored annotation as the SDK can parse it: only known keys, no degenerate box, no null
    confidence. Anything it cannot make sense of is passed through untouched."""
    if not isinstance(item, dict) or item.get("type") not in TYPES:
        return item
    allowed = (*_COMMON, *_GEOMETRY[item["type"]])
    result = {key: item[key] for key in allowed if key in item and item[key] is not None}
    box = result.get("bounding_box")
    degenerate = isinstance(box, dict) and not (box.get("w", 0) > 0 and box.get("h", 0) > 0)
    if item["type"] != "bbox" and degenerate:
        del result["bounding_box"]
    if item["type"] == "keypoint":
        result.pop("bounding_box", None)
    return result

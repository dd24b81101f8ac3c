"""What the gallery shows of an image's labels (shapes to draw, similar images) and of a
dataset's (classes with counts, exports with download links), through the service layer."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote

from pictograph.errors import ApiError
from pictograph.models import Dataset, Image
from pictograph.server.gallery import vendor
from pictograph.server.service import browsing, class_edits, exports, images, search, versions
from pictograph.server.service.annotations import get_annotations
from pictograph.server.service.context import AppContext, Links, image_segment

log = logging.getLogger("pictograph.gallery")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{3,8}$")
SIMILAR_SHOWN = 6
SIMILAR_FOLDER_CAP = 2000


def _colour(classes: dict[str, dict[str, Any]], name: str) -> str:
    colour = str(classes.get(name, {}).get("color") or "")
    return colour if _COLOUR.match(colour) else "#ffcc00"


def overlay(image: Image, annotations: list[Any], dataset: Dataset) -> list[dict[str, Any]]:
    """Shapes to draw over the image, in its pixel coordinates: boxes, polygons (each ring as an
    SVG ``points`` string), polylines and keypoints, each with its class name and colour."""
    classes = {c.name: c.model_dump() for c in dataset.classes}
    shapes = []
    for item in annotations:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        shape: dict[str, Any] = {"name": item["name"], "colour": _colour(classes, item["name"])}
        kind = item.get("type")
        try:
            if kind == "bbox":
                box = item["bounding_box"]
                shape |= {"kind": "box", "x": float(box["x"]), "y": float(box["y"]),
                          "w": float(box["w"]), "h": float(box["h"])}  # fmt: skip
            elif kind in ("polygon", "polyline"):
                rings = (
                    item["polygon"]["paths"] if kind == "polygon" else [item["polyline"]["path"]]
                )
                shape |= {"kind": kind, "rings": [_points(ring) for ring in rings],
                          "x": float(rings[0][0]["x"]), "y": float(rings[0][0]["y"])}  # fmt: skip
            elif kind == "keypoint":
                point = item["keypoint"]
                shape |= {"kind": "point", "x": float(point["x"]), "y": float(point["y"])}
            else:
                continue
        except (KeyError, TypeError, ValueError, IndexError):
            continue
        shapes.append(shape)
    return shapes


def thumbnail_shapes(
    store: AppContext, dataset: Dataset, shown: list[Image]
) -> dict[str, list[dict[str, Any]]]:
    """The shapes to draw over each thumbnail of a page (one query for the page's labels)."""
    stored = browsing.annotations_of(store, dataset.id, [image.id for image in shown])
    return {
        image.id: overlay(image, stored.get(image.id, []), dataset)
        for image in shown
        if stored.get(image.id) and image.width and image.height
    }


def _points(ring: list[dict[str, Any]]) -> str:
    return " ".join(f"{float(p['x']):g},{float(p['y']):g}" for p in ring)


def similar(
    store: AppContext, organization_id: str, image: Image, links: Links
) -> list[dict[str, Any]]:
    """Up to ``SIMILAR_SHOWN`` images of the same folder that look most like ``image``; none for
    folders over ``SIMILAR_FOLDER_CAP`` images, whose first comparison (descriptors are made on
    first use) would hold the page too long."""
    filters = images.ImageFilters(directory_path=image.directory_path or "/")
    size = images.list_images(
        store, organization_id, image.dataset_id or "", filters, links, limit=1, offset=0
    ).total
    if size > SIMILAR_FOLDER_CAP:
        return []
    try:
        found = search.similar(store, organization_id, image.id, threshold=0.5,
                               limit=SIMILAR_SHOWN)  # fmt: skip
    except ApiError as error:  # e.g. its own bytes unreadable: the page renders without them
        log.warning("no similar images for %s: %s", image.id, error.message)
        return []
    return list(found["results"])


def image_context(
    store: AppContext, organization_id: str, image: Image, dataset: Dataset, links: Links
) -> dict[str, Any]:
    """The labels part of the image page: the shapes drawn without script, the path the editor
    reads and saves annotations at, the vendored canvas library it draws with, similar images."""
    segment = image_segment(image.directory_path or "/", image.filename)
    found = get_annotations(store, organization_id, dataset.id, unquote(segment))
    annotations = found["annotations"]
    return {
        "shapes": overlay(image, annotations, dataset),
        "segment": segment,
        "konva": vendor.konva().name,
        "similar": similar(store, organization_id, image, links),
    }


def dataset_context(
    store: AppContext, organization_id: str, dataset: Dataset, links: Links
) -> dict[str, Any]:
    """The labels part of the dataset page: classes with counts, the dataset's exports."""
    listed = exports.list_exports(store, organization_id, links, dataset=dataset.id, limit=20)
    counts = class_edits.class_counts(store, organization_id, dataset.id)
    by_name = {c["name"]: c for c in counts}
    return {
        "class_counts": [{**c, "colour": _colour(by_name, c["name"])} for c in counts],
        "exports": listed.items,
        "versions": versions.list_versions(store, organization_id, dataset.id),
    }

"""The ``pascal_voc`` layout: ``JPEGImages/<path>`` and ``Annotations/<folder>/<stem>.xml`` per
image, the Pascal VOC annotation schema (``<annotation>`` with ``<filename>``, ``<size>``, one
``<object>`` with ``<name>`` and ``<bndbox>`` per box). VOC has boxes only: a polygon is written
as its enclosing box. Corners are the stored pixel coordinates (``xmax = x + w``), as the
official SDK's ``to_pascal_voc`` writes them, so its importer gives the same boxes back."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import PurePosixPath
from typing import Any

from pictograph.server.service import export_shapes as shapes
from pictograph.server.service.export_archive import Archive
from pictograph.server.service.export_job import Job, manifest
from pictograph.server.service.export_places import Places
from pictograph.server.service.export_rows import relative_path


def _label_of(image: str) -> str:
    head, _, path = image.partition("JPEGImages/")
    return f"{head}Annotations/{PurePosixPath(path).with_suffix('.xml')}"


def pascal_voc(job: Job, out: Archive) -> None:
    places = Places(_label_of)
    keep = {c["name"] for c in job.classes()}
    for prefix, split in job.splits():
        for row in job.rows(split):
            image, label = places.place(f"{prefix}JPEGImages/{relative_path(row)}")
            document, count = _document(job, row, PurePosixPath(image), keep)
            out.text(label, document)
            if job.export["include_images"]:
                out.image(image, row["blob_key"])
            job.image_count += 1
            job.annotation_count += count
    out.json("manifest.json", manifest(job, out, renamed=places.renamed))


def _document(
    job: Job, row: dict[str, Any], image: PurePosixPath, keep: set[str]
) -> tuple[str, int]:
    root = ET.Element("annotation")
    _add(root, "folder", row["directory_path"].strip("/"))
    _add(root, "filename", image.name)
    _add(root, "path", relative_path(row))
    _add(_add(root, "source"), "database", job.dataset["name"])
    size = _add(root, "size")
    _add(size, "width", str(row["width"] or 0))
    _add(size, "height", str(row["height"] or 0))
    _add(size, "depth", "3")
    _add(root, "segmented", "0")
    count = 0
    for item in row["annotations"]:
        if shapes.kind(item) is None or item.get("name") not in keep:
            continue
        x, y, w, h = shapes.outer_box(item)
        found = _add(root, "object")
        _add(found, "name", item["name"])
        _add(found, "pose", "Unspecified")
        _add(found, "truncated", "0")
        _add(found, "difficult", "0")
        bounds = _add(found, "bndbox")
        for tag, value in (("xmin", x), ("ymin", y), ("xmax", x + w), ("ymax", y + h)):
            _add(bounds, tag, number(value))
        count += 1
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n", count


def _add(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    child = ET.SubElement(parent, tag)
    if text is not None:
        child.text = text
    return child


def number(value: float) -> str:
    """A coordinate as text: an integer without ``.0``, else the shortest exact decimal."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))

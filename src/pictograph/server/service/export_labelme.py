"""The ``labelme`` layout: each image with a LabelMe JSON beside it (``<path>`` and
``<folder>/<stem>.json``): ``shapes`` of ``shape_type`` ``rectangle`` (two corner points) or
``polygon`` (the outline; LabelMe has no holes), ``imagePath`` relative to the JSON,
``imageData`` null, ``imageHeight``/``imageWidth``. No ``manifest.json``: LabelMe tools and
converters read every ``.json`` of the folder as a LabelMe file (a renamed image, ``a_webp.webp``,
keeps its original suffix in its name)."""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any

from pictograph.server.service import export_shapes as shapes
from pictograph.server.service.export_archive import Archive
from pictograph.server.service.export_job import Job
from pictograph.server.service.export_places import Places, beside
from pictograph.server.service.export_rows import relative_path

#: The LabelMe file version written (the JSON layout of LabelMe 5).
VERSION = "5.2.1"


def labelme(job: Job, out: Archive) -> None:
    places = Places(beside(".json"))
    keep = {c["name"] for c in job.classes()}
    for prefix, split in job.splits():
        for row in job.rows(split):
            image, label = places.place(f"{prefix}{relative_path(row)}")
            found = [_shape(item) for item in row["annotations"]
                     if shapes.kind(item) and item.get("name") in keep]  # fmt: skip
            document: dict[str, Any] = {
                "version": VERSION,
                "flags": {},
                "shapes": found,
                "imagePath": PurePosixPath(image).name,
                "imageData": None,
                "imageHeight": row["height"] or 0,
                "imageWidth": row["width"] or 0,
            }
            out.text(label, json.dumps(document, indent=1))
            if job.export["include_images"]:
                out.image(image, row["blob_key"])
            job.image_count += 1
            job.annotation_count += len(found)


def _shape(item: dict[str, Any]) -> dict[str, Any]:
    if shapes.kind(item) == "bbox":
        x, y, w, h = shapes.box(item["bounding_box"])
        kind, points = "rectangle", [[x, y], [x + w, y + h]]
    else:
        kind, points = "polygon", [[x, y] for x, y in shapes.rings(item)[0]]
    return {"label": item["name"], "points": points, "group_id": None, "description": "",
            "shape_type": kind, "flags": {}}  # fmt: skip

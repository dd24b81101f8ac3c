"""The ``coco`` layout: ``annotations.json`` (COCO detection/segmentation) per part, with
``images/<path>``. Boxes carry their mask as RLE, polygons their rings, so pycocotools'
``annToMask`` decodes every annotation and COCO importers keep a box a box."""

from __future__ import annotations

import json
from typing import IO, Any

from pictograph.server.service import export_shapes as shapes
from pictograph.server.service.export_archive import Archive, Spool
from pictograph.server.service.export_job import Job
from pictograph.server.service.export_rows import relative_path


def coco(job: Job, out: Archive) -> None:
    names = sorted(job.class_names())
    category = {name: index for index, name in enumerate(names, start=1)}
    for prefix, split in job.splits():
        annotations, pictures = Spool(), Spool()
        try:
            with out.stream(f"{prefix}annotations.json") as member:
                _document(job, member, split, category, (annotations, pictures))
            if job.export["include_images"]:
                out.images_of(pictures, f"{prefix}images/")
        finally:
            annotations.close()
            pictures.close()


def _document(
    job: Job,
    member: IO[str],
    split: str | None,
    category: dict[str, int],
    spools: tuple[Spool, Spool],
) -> None:
    """Write one COCO document: images straight out, annotations spooled until the images end
    (a ZIP member is written front to back, and the rows are read once)."""
    annotations, pictures = spools
    categories = [{"id": i, "name": n, "supercategory": "none"} for n, i in category.items()]
    head = {"info": {"description": job.dataset["name"]}, "categories": categories}
    member.write(json.dumps(head)[:-1] + ', "images": [')
    next_id = 1
    for image_id, row in enumerate(job.rows(split), start=1):
        member.write(("," if image_id > 1 else "") + json.dumps(_image(image_id, row)))
        for item in row["annotations"]:
            entry = _annotation(item, row, (image_id, next_id), category)
            if entry is not None:
                annotations.write(json.dumps(entry))
                next_id += 1
        pictures.image(relative_path(row), row["blob_key"])
        job.image_count += 1
    member.write('], "annotations": [')
    for index, line in enumerate(annotations.lines()):
        member.write(("," if index else "") + line)
    member.write("]}")
    job.annotation_count += next_id - 1


def _image(image_id: int, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": image_id,
        "file_name": relative_path(row),
        "width": row["width"] or 0,
        "height": row["height"] or 0,
    }


def _annotation(
    item: Any, row: dict[str, Any], ids: tuple[int, int], category: dict[str, int]
) -> dict[str, Any] | None:
    kind = shapes.kind(item)
    if kind is None or item.get("name") not in category:
        return None  # polylines and keypoints have no COCO detection form
    bounds = shapes.outer_box(item)
    segmentation: Any
    if kind == "bbox":
        segmentation = shapes.box_rle(bounds, row["width"] or 0, row["height"] or 0)
        area = bounds[2] * bounds[3]
    else:
        rings = shapes.rings(item)
        segmentation = [[c for point in ring for c in point] for ring in rings]
        area = abs(shapes.shoelace(rings[0])) - sum(abs(shapes.shoelace(r)) for r in rings[1:])
    image_id, annotation_id = ids
    entry: dict[str, Any] = {
        "id": annotation_id,
        "image_id": image_id,
        "category_id": category[item["name"]],
        "bbox": list(bounds),
        "area": area,
        "segmentation": segmentation,
        "iscrowd": 0,
    }
    if isinstance(item.get("attributes"), dict) and item["attributes"]:
        entry["attributes"] = item["attributes"]
    return entry

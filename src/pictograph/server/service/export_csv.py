"""The ``csv`` layout: ``annotations.csv`` per part, with ``images/<path>``.

Columns (a header row first): ``filename,width,height,class,xmin,ymin,xmax,ymax`` (the
TensorFlow object-detection CSV; ``filename`` is the dataset path, corners in pixels), then
``type`` (``bbox``/``polygon``), ``points`` (a polygon's outline as a JSON list of ``[x, y]``,
empty for a box) and ``split``. One row per box or polygon; an image without any has one row
with ``class`` empty, so every image is listed.
"""

from __future__ import annotations

import csv
import json
from typing import Any

from pictograph.server.service import export_shapes as shapes
from pictograph.server.service.export_archive import Archive, Spool
from pictograph.server.service.export_job import Job
from pictograph.server.service.export_rows import relative_path
from pictograph.server.service.export_voc import number

COLUMNS = ["filename", "width", "height", "class", "xmin", "ymin", "xmax", "ymax", "type",
           "points", "split"]  # fmt: skip


def csv_boxes(job: Job, out: Archive) -> None:
    keep = {c["name"] for c in job.classes()}
    for prefix, split in job.splits():
        pictures = Spool()
        try:
            _part(job, out, prefix, split, keep, pictures)
            if job.export["include_images"]:
                out.images_of(pictures, f"{prefix}images/")
        finally:
            pictures.close()


def _part(
    job: Job, out: Archive, prefix: str, split: str | None, keep: set[str], pictures: Spool
) -> None:
    with out.stream(f"{prefix}annotations.csv") as member:
        writer = csv.writer(member, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in job.rows(split):
            lines = [_line(item) for item in row["annotations"]
                     if shapes.kind(item) and item.get("name") in keep]  # fmt: skip
            image = [relative_path(row), row["width"] or 0, row["height"] or 0]
            for line in lines or [["", "", "", "", "", "", ""]]:
                writer.writerow([*image, *line, row["split"] or ""])
            pictures.image(relative_path(row), row["blob_key"])
            job.image_count += 1
            job.annotation_count += len(lines)


def _line(item: dict[str, Any]) -> list[str]:
    x, y, w, h = shapes.outer_box(item)
    corners = [number(v) for v in (x, y, x + w, y + h)]
    kind = shapes.kind(item) or ""
    points = json.dumps([list(p) for p in shapes.rings(item)[0]]) if kind == "polygon" else ""
    return [item["name"], *corners, kind, points]

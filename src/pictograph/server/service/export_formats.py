"""The archive layouts of each export format (see docs/compatibility.md), written row by row.

Each format with a layout of its own lives in its own module (``export_coco``, ``export_yolo``,
``export_voc``, ``export_labelme``, ``export_cvat``, ``export_csv``); this one holds our own
``pictograph`` layout, ``imagefolder``, and the table of builders.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pictograph.server.service.export_archive import Archive
from pictograph.server.service.export_coco import coco
from pictograph.server.service.export_csv import csv_boxes
from pictograph.server.service.export_cvat import cvat
from pictograph.server.service.export_job import Job, manifest
from pictograph.server.service.export_labelme import labelme
from pictograph.server.service.export_rows import relative_path
from pictograph.server.service.export_voc import pascal_voc
from pictograph.server.service.export_yolo import yolo


def pictograph(job: Job, out: Archive) -> None:
    """``manifest.json``, ``annotations/<path>.json`` per image, ``images/<path>``."""
    for prefix, split in job.splits():
        for row in job.rows(split):
            path = relative_path(row)
            out.json(f"{prefix}annotations/{path}.json", _canonical(row))
            if job.export["include_images"]:
                out.image(f"{prefix}images/{path}", row["blob_key"])
            job.image_count += 1
            job.annotation_count += len(row["annotations"])
    out.json("manifest.json", manifest(job, out))


def _canonical(row: dict[str, Any]) -> dict[str, Any]:
    image = {
        key: row[key]
        for key in ("id", "filename", "directory_path", "width", "height", "status", "split")
    }
    image["tags"] = list(row["tags"] or [])
    image["sha256"] = row["sha256"]
    return {"image": image, "annotations": row["annotations"]}


def imagefolder(job: Job, out: Archive) -> None:
    """``<folder>/<filename>``: each virtual folder is a class folder (root images: ``unsorted/``),
    the layout torchvision's ``ImageFolder`` and Hugging Face's ``imagefolder`` read. Always carries
    the images; labels are the folders."""
    for prefix, split in job.splits():
        for row in job.rows(split):
            folder = row["directory_path"].strip("/") or "unsorted"
            if out.image(f"{prefix}{folder}/{row['filename']}", row["blob_key"]):
                job.image_count += 1


BUILDERS: dict[str, Callable[[Job, Archive], None]] = {
    "pictograph": pictograph,
    "coco": coco,
    "yolo": yolo,
    "imagefolder": imagefolder,
    "pascal_voc": pascal_voc,
    "labelme": labelme,
    "cvat": cvat,
    "csv": csv_boxes,
}

"""The ``cvat`` layout: CVAT for images 1.1, one ``annotations.xml`` per part (``<annotations>``,
``<version>1.1</version>``, ``<meta>`` with the task's labels, then one ``<image id name width
height>`` per image holding ``<box label xtl ytl xbr ybr>`` and ``<polygon label points>``
(``x,y;x,y;...``, the outline)), with ``images/<path>``. ``name`` is the dataset path."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import IO, Any

from pictograph.server.service import export_shapes as shapes
from pictograph.server.service.export_archive import Archive, Spool
from pictograph.server.service.export_job import Job
from pictograph.server.service.export_rows import relative_path
from pictograph.server.service.export_voc import number


def cvat(job: Job, out: Archive) -> None:
    names = job.class_names()
    for prefix, split in job.splits():
        pictures = Spool()
        try:
            with out.stream(f"{prefix}annotations.xml") as member:
                _write(job, member, split, names, pictures)
            if job.export["include_images"]:
                out.images_of(pictures, f"{prefix}images/")
        finally:
            pictures.close()


def _write(job: Job, member: IO[str], split: str | None, names: list[str], pictures: Spool) -> None:
    meta = ET.Element("meta")
    task = ET.SubElement(meta, "task")
    ET.SubElement(task, "name").text = job.dataset["name"]
    ET.SubElement(task, "mode").text = "annotation"
    labels = ET.SubElement(task, "labels")
    for name in names:
        label = ET.SubElement(labels, "label")
        ET.SubElement(label, "name").text = name
        ET.SubElement(label, "attributes")
    member.write('<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n')
    member.write("<version>1.1</version>\n" + ET.tostring(meta, encoding="unicode") + "\n")
    keep = set(names)
    for index, row in enumerate(job.rows(split)):
        element, count = _image(index, row, keep)
        member.write(ET.tostring(element, encoding="unicode") + "\n")
        pictures.image(relative_path(row), row["blob_key"])
        job.image_count += 1
        job.annotation_count += count
    member.write("</annotations>\n")


def _image(index: int, row: dict[str, Any], keep: set[str]) -> tuple[ET.Element, int]:
    attributes = {
        "id": str(index),
        "name": relative_path(row),
        "width": str(row["width"] or 0),
        "height": str(row["height"] or 0),
    }
    if row["split"]:
        attributes["subset"] = row["split"]
    element = ET.Element("image", attributes)
    count = 0
    for item in row["annotations"]:
        kind = shapes.kind(item)
        if kind is None or item.get("name") not in keep:
            continue
        common = {"label": item["name"], "source": "manual", "occluded": "0", "z_order": "0"}
        if kind == "bbox":
            x, y, w, h = shapes.box(item["bounding_box"])
            corners = {"xtl": x, "ytl": y, "xbr": x + w, "ybr": y + h}
            ET.SubElement(element, "box", {**common, **{k: number(v) for k, v in corners.items()}})
        else:
            points = ";".join(f"{number(x)},{number(y)}" for x, y in shapes.rings(item)[0])
            ET.SubElement(element, "polygon", {**common, "points": points})
        count += 1
    return element, count

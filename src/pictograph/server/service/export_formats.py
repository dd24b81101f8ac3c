"""The archive layouts of each export format (see docs/exports.md), written row by row."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import IO, Any

from pictograph.server.service.context import AppContext, aware
from pictograph.server.service.export_archive import Archive, Spool
from pictograph.server.service.export_rows import Selection, images, relative_path


@dataclass
class Job:
    """One export being built: its row, its dataset row, and what it has written so far."""

    store: AppContext
    export: dict[str, Any]
    dataset: dict[str, Any]
    #: Called once per image: keeps the job's heartbeat, raises when the job must stop.
    beat: Callable[[], None]
    image_count: int = 0
    annotation_count: int = 0
    _selection: Selection | None = field(default=None, repr=False)

    @property
    def selection(self) -> Selection:
        if self._selection is None:
            self._selection = Selection(
                self.dataset["id"], self.export["status_filter"], self.export["class_filter"]
            )
        return self._selection

    def splits(self) -> list[tuple[str, str | None]]:
        """``(member prefix, split folder)`` pairs: one unsplit part, or train/valid/test."""
        if self.export["organize_by_split"]:
            return [(f"{name}/", name) for name in ("train", "valid", "test")]
        return [("", None)]

    def rows(self, split: str | None) -> Iterator[dict[str, Any]]:
        for row in images(self.store, self.selection, split):
            self.beat()
            yield row

    def classes(self) -> list[dict[str, Any]]:
        """The dataset's classes in their order, after the class filter."""
        keep = self.export["class_filter"]
        return [c for c in self.dataset["classes"] or [] if keep is None or c["name"] in keep]


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
    out.json("manifest.json", _manifest(job, out))


def _canonical(row: dict[str, Any]) -> dict[str, Any]:
    image = {
        key: row[key]
        for key in ("id", "filename", "directory_path", "width", "height", "status", "split")
    }
    image["tags"] = list(row["tags"] or [])
    image["sha256"] = row["sha256"]
    return {"image": image, "annotations": row["annotations"]}


def _manifest(job: Job, out: Archive) -> dict[str, Any]:
    export = job.export
    created = aware(export["created_at"])
    return {
        "format": export["format"],
        "export": {
            "id": export["id"],
            "name": export["name"],
            "created_at": created.isoformat() if created else None,
        },
        "dataset": {"id": job.dataset["id"], "name": job.dataset["name"]},
        "annotation_types": list(job.dataset["annotation_types"] or []),
        "classes": job.classes(),
        "filters": {
            "class_filter": export["class_filter"],
            "status_filter": export["status_filter"],
            "organize_by_split": bool(export["organize_by_split"]),
            "include_images": bool(export["include_images"]),
        },
        "image_count": job.image_count,
        "annotation_count": job.annotation_count,
        "missing_images": out.missing,
    }


def coco(job: Job, out: Archive) -> None:
    """``annotations.json`` (COCO detection/segmentation) per part, ``images/<path>``."""
    names = sorted(c["name"] for c in job.classes())
    category = {name: index for index, name in enumerate(names, start=1)}
    for prefix, split in job.splits():
        annotations, pictures = Spool(), Spool()
        try:
            with out.stream(f"{prefix}annotations.json") as member:
                _coco_document(job, member, split, category, (annotations, pictures))
            if job.export["include_images"]:
                for line in pictures.lines():
                    path, key = json.loads(line)
                    out.image(f"{prefix}images/{path}", key)
        finally:
            annotations.close()
            pictures.close()


def _coco_document(
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
        member.write(("," if image_id > 1 else "") + json.dumps(_coco_image(image_id, row)))
        for item in row["annotations"]:
            entry = _coco_annotation(item, image_id, next_id, category)
            if entry is not None:
                annotations.write(json.dumps(entry))
                next_id += 1
        pictures.write(json.dumps([relative_path(row), row["blob_key"]]))
        job.image_count += 1
    member.write('], "annotations": [')
    for index, line in enumerate(annotations.lines()):
        member.write(("," if index else "") + line)
    member.write("]}")
    job.annotation_count += next_id - 1


def _coco_image(image_id: int, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": image_id,
        "file_name": relative_path(row),
        "width": row["width"] or 0,
        "height": row["height"] or 0,
    }


def _coco_annotation(
    item: dict[str, Any], image_id: int, annotation_id: int, category: dict[str, int]
) -> dict[str, Any] | None:
    if item.get("name") not in category:
        return None
    kind = item.get("type")
    if kind == "bbox" and isinstance(item.get("bounding_box"), dict):
        box = _box(item["bounding_box"])
        segmentation: list[list[float]] = []
        area = box[2] * box[3]
    elif kind == "polygon" and _rings(item):
        rings = _rings(item)
        segmentation = [[c for point in ring for c in point] for ring in rings]
        given = item.get("bounding_box")
        box = _box(given) if isinstance(given, dict) else _enclose(rings[0])
        area = abs(_shoelace(rings[0])) - sum(abs(_shoelace(ring)) for ring in rings[1:])
    else:  # polylines and keypoints have no COCO detection form
        return None
    entry: dict[str, Any] = {
        "id": annotation_id,
        "image_id": image_id,
        "category_id": category[item["name"]],
        "bbox": box,
        "area": area,
        "segmentation": segmentation,
        "iscrowd": 0,
    }
    if isinstance(item.get("attributes"), dict) and item["attributes"]:
        entry["attributes"] = item["attributes"]
    return entry


def _box(raw: dict[str, Any]) -> list[float]:
    return [float(raw["x"]), float(raw["y"]), float(raw["w"]), float(raw["h"])]


def _rings(item: dict[str, Any]) -> list[list[tuple[float, float]]]:
    paths = (item.get("polygon") or {}).get("paths") or []
    return [[(float(p["x"]), float(p["y"])) for p in ring] for ring in paths if len(ring) >= 3]


def _enclose(ring: list[tuple[float, float]]) -> list[float]:
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


def _shoelace(ring: list[tuple[float, float]]) -> float:
    pairs = zip(ring, ring[1:] + ring[:1], strict=True)
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in pairs) / 2.0


def yolo(job: Job, out: Archive) -> None:
    """``data.yaml``; ``labels/<stem>.txt`` per image (boxes, normalised), ``images/<stem>.ext``.

    A stem is the image's path with ``/`` as ``__`` (``sub/a.png`` -> ``sub__a``), so images of
    different folders never share a label file.
    """
    names = [c["name"] for c in job.classes()]
    index = {name: i for i, name in enumerate(names)}
    for prefix, split in job.splits():
        for row in job.rows(split):
            path = PurePosixPath(relative_path(row))
            stem = "__".join([*path.parent.parts, path.stem])
            lines = [line for item in row["annotations"] if (line := _yolo_line(item, row, index))]
            out.text(f"{prefix}labels/{stem}.txt", "".join(f"{line}\n" for line in lines))
            if job.export["include_images"]:
                out.image(f"{prefix}images/{stem}{path.suffix}", row["blob_key"])
            job.image_count += 1
            job.annotation_count += len(lines)
    by_split = bool(job.export["organize_by_split"])
    folders = {
        "train": "train/images" if by_split else "images",
        "val": "valid/images" if by_split else "images",
    }
    if by_split:
        folders["test"] = "test/images"
    lines = ["path: ."] + [f"{key}: {value}" for key, value in folders.items()]
    lines += [f"nc: {len(names)}", f"names: {json.dumps(names)}"]
    out.text("data.yaml", "\n".join(lines) + "\n")


def _yolo_line(item: Any, row: dict[str, Any], index: dict[str, int]) -> str | None:
    width, height = row["width"], row["height"]
    if not isinstance(item, dict) or item.get("name") not in index or not width or not height:
        return None
    if item.get("type") == "bbox" and isinstance(item.get("bounding_box"), dict):
        x, y, w, h = _box(item["bounding_box"])
    elif item.get("type") == "polygon" and _rings(item):
        x, y, w, h = _enclose(_rings(item)[0])
    else:
        return None
    cx, cy = (x + w / 2) / width, (y + h / 2) / height
    return f"{index[item['name']]} {cx:.6f} {cy:.6f} {w / width:.6f} {h / height:.6f}"


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
}

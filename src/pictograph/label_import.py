"""Reading COCO and YOLO label files into per-image annotations for ``annotations.bulk_save``.

Images are matched by dataset-relative path (``sub/a.png``), else by a unique filename, else by
a unique stem; YOLO label files named ``sub__a.txt`` (our exports) match ``sub/a.*``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pictograph.models import Image
from pictograph.protocol import dataset_path


@dataclass
class ImportPlan:
    """Annotations by image id, the classes they use (name -> type), files matching no image."""

    saves: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    classes: dict[str, str] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)


class ImageIndex:
    """Finds a dataset's image by relative path (with or without its suffix, ``__`` standing
    for ``/``), else by a unique filename, else by a unique filename stem."""

    def __init__(self, images: Iterable[Image]) -> None:
        self._paths: dict[str, Image] = {}
        self._path_stems: dict[str, Image] = {}
        self._names: dict[str, list[Image]] = {}
        self._stems: dict[str, list[Image]] = {}
        for image in images:
            path = dataset_path(image.directory_path, image.filename).lstrip("/")
            self._paths[path] = image
            self._path_stems[PurePosixPath(path).with_suffix("").as_posix()] = image
            self._names.setdefault(image.filename, []).append(image)
            self._stems.setdefault(PurePosixPath(image.filename).stem, []).append(image)

    def find(self, name: str) -> Image | None:
        """The image ``name`` (a path, a filename, or a label file's stem) means, if just one."""
        name = name.lstrip("/")
        stem = PurePosixPath(name).with_suffix("").as_posix()
        for key in (name, stem, stem.replace("__", "/")):
            found = self._paths.get(key) or self._path_stems.get(key)
            if found is not None:
                return found
        for table, key in ((self._names, PurePosixPath(name).name), (self._stems, stem)):
            matches = table.get(key, [])
            if len(matches) == 1:
                return matches[0]
        return None


def _box(name: str, x: float, y: float, w: float, h: float) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "name": name, "type": "bbox", "confidence": 1.0,
            "attributes": [], "bounding_box": {"x": x, "y": y, "w": w, "h": h}}  # fmt: skip


def from_coco(document: dict[str, Any], index: ImageIndex) -> ImportPlan:
    """Boxes and polygons of a COCO document (``bbox`` and polygon ``segmentation``)."""
    plan = ImportPlan()
    names = {c["id"]: c["name"] for c in document.get("categories", [])}
    images = {}
    for entry in document.get("images", []):
        found = index.find(str(entry["file_name"]))
        if found is None:
            plan.unmatched.append(str(entry["file_name"]))
        else:
            images[entry["id"]] = found.id
            plan.saves.setdefault(found.id, [])
    for item in document.get("annotations", []):
        image_id, name = images.get(item["image_id"]), names.get(item["category_id"])
        if image_id is None or name is None:
            continue
        rings = item.get("segmentation")
        if isinstance(rings, list) and rings and all(len(r) >= 6 for r in rings):
            paths = [[{"x": r[i], "y": r[i + 1]} for i in range(0, len(r) - 1, 2)] for r in rings]
            annotation = {"id": str(uuid.uuid4()), "name": name, "type": "polygon",
                          "confidence": 1.0, "attributes": [],
                          "polygon": {"paths": paths}}  # fmt: skip
            plan.classes.setdefault(name, "polygon")
        else:
            annotation = _box(name, *item["bbox"])
            plan.classes.setdefault(name, "bbox")
        plan.saves[image_id].append(annotation)
    return plan


def yolo_names(folder: Path) -> list[str]:
    """Class names from ``data.yaml`` (a ``names:`` flow list, block list or index map) or
    ``classes.txt`` / ``obj.names``; ``ValueError`` when none is found."""
    for candidate in ("classes.txt", "obj.names"):
        if (folder / candidate).is_file():
            return [
                line.strip()
                for line in (folder / candidate).read_text().splitlines()
                if line.strip()
            ]
    data = folder / "data.yaml"
    if not data.is_file():
        raise ValueError(f"no data.yaml, classes.txt or obj.names in {folder}")
    lines = data.read_text().splitlines()
    for number, line in enumerate(lines):
        if not line.startswith("names:"):
            continue
        rest = line[len("names:") :].strip()
        if rest:
            return [str(n) for n in json.loads(rest.replace("'", '"'))]
        found: dict[int, str] = {}
        for item in lines[number + 1 :]:
            text = item.strip()
            if not item.startswith((" ", "-", "\t")) or not text:
                break
            if text.startswith("- "):
                found[len(found)] = text[2:].strip().strip("'\"")
            elif ":" in text:
                key, value = text.split(":", 1)
                found[int(key)] = value.strip().strip("'\"")
        return [found[key] for key in sorted(found)]
    raise ValueError(f"{data} has no names")


def from_yolo(folder: Path, index: ImageIndex) -> ImportPlan:
    """Boxes of every ``*.txt`` under ``folder``'s ``labels`` folders (any split)."""
    plan = ImportPlan()
    names = yolo_names(folder)
    for label in sorted(folder.rglob("*.txt")):
        if label.name in ("classes.txt",) or "labels" not in label.parts:
            continue
        image = index.find(label.stem)
        if image is None:
            plan.unmatched.append(label.name)
            continue
        if not image.width or not image.height:
            plan.unmatched.append(label.name)
            continue
        boxes = plan.saves.setdefault(image.id, [])
        for line in label.read_text().splitlines():
            parts = line.split()
            if len(parts) != 5:
                continue
            name = names[int(parts[0])]
            cx, cy, w, h = (float(v) for v in parts[1:])
            x, y = (cx - w / 2) * image.width, (cy - h / 2) * image.height
            boxes.append(_box(name, x, y, w * image.width, h * image.height))
            plan.classes.setdefault(name, "bbox")
    return plan

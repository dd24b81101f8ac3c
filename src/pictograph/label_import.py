"""Reading COCO and YOLO label files into per-image annotations for ``annotations.bulk_save``.

Images are matched by dataset-relative path (``sub/a.png``), else by a unique filename, else by
a unique stem. A YOLO label file's path under its ``labels`` folder is the image's path under
``images`` (``labels/sub/a.txt`` is ``sub/a.*``), the layout ultralytics and our exports use; an
image our export renamed (``a_webp.webp``) is found through the ``renamed`` list of its
``manifest.json``; older exports' ``sub__a.txt`` still match ``sub/a.*``.
"""

from __future__ import annotations

import glob
import json
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pictograph.models import Image
from pictograph.protocol import dataset_path, yolo_label_of


@dataclass
class ImportPlan:
    """Annotations by image id, the classes they use (name -> type), files matching no image;
    once carried out, what the server saved and the images it refused (image id, reason)."""

    saves: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    classes: dict[str, str] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    saved_images: int = 0
    saved_annotations: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


class LabelFileError(ValueError):
    """A label file that cannot be imported as a whole; ``problems`` lists each bad entry as
    (entry, reason). Raised before anything is saved."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        shown = "; ".join(f"{entry}: {reason}" for entry, reason in problems[:_SHOWN])
        more = f"; and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"{source}: {count}, nothing was imported: {shown}{more}")
        self.problems = problems


#: Problems named in a ``LabelFileError``'s message (all are in ``problems``).
_SHOWN = 10


class ImageIndex:
    """Finds a dataset's image by relative path (with or without its suffix, ``__`` standing
    for ``/``), else by a unique filename, else by a unique filename stem."""

    def __init__(self, images: Iterable[Image]) -> None:
        self._paths: dict[str, Image] = {}
        self._path_stems: dict[str, list[Image]] = {}
        self._names: dict[str, list[Image]] = {}
        self._stems: dict[str, list[Image]] = {}
        for image in images:
            path = dataset_path(image.directory_path, image.filename).lstrip("/")
            self._paths[path] = image
            stem = PurePosixPath(path).with_suffix("").as_posix()
            self._path_stems.setdefault(stem, []).append(image)
            self._names.setdefault(image.filename, []).append(image)
            self._stems.setdefault(PurePosixPath(image.filename).stem, []).append(image)

    def find(self, name: str) -> Image | None:
        """The image ``name`` (a path, a filename, or a label file's stem) means, if just one."""
        name = name.lstrip("/")
        stem = PurePosixPath(name).with_suffix("").as_posix()
        for key in (name, stem, stem.replace("__", "/")):
            found = self._paths.get(key)
            if found is not None:
                return found
            alike = self._path_stems.get(key, [])
            if len(alike) == 1:  # a.jpg and a.webp in one folder: a stem names neither
                return alike[0]
        for table, key in ((self._names, PurePosixPath(name).name), (self._stems, stem)):
            matches = table.get(key, [])
            if len(matches) == 1:
                return matches[0]
        return None


def _box(name: str, x: float, y: float, w: float, h: float) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "name": name, "type": "bbox", "confidence": 1.0,
            "attributes": [], "bounding_box": {"x": x, "y": y, "w": w, "h": h}}  # fmt: skip


def read_coco(path: Path) -> dict[str, Any]:
    """The COCO document in ``path``; ``LabelFileError`` when it is not a JSON object."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise LabelFileError(str(path), [("file", "JSON nested too deeply")]) from None
    except ValueError as error:  # not UTF-8, or not JSON
        raise LabelFileError(str(path), [("file", f"not JSON ({error})")]) from None
    if not isinstance(document, dict):
        kind = type(document).__name__
        raise LabelFileError(str(path), [("file", f"a COCO file is a JSON object, not a {kind}")])
    return document


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _entries(document: dict[str, Any], key: str, problems: list[tuple[str, str]]) -> list[Any]:
    entries = document.get(key, [])
    if not isinstance(entries, list):
        problems.append((key, "must be a list"))
        return []
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict):
            problems.append((f"{key}[{number}]", "must be an object"))
    return [entry if isinstance(entry, dict) else {} for entry in entries]


def _key(value: Any) -> bool:
    return isinstance(value, int | str) and not isinstance(value, bool)


def _coco_shape(item: dict[str, Any]) -> tuple[str, Any] | str:
    """("polygon", rings) or ("bbox", box) of a COCO annotation; the reason when neither."""
    rings = item.get("segmentation")
    if isinstance(rings, list) and rings and all(isinstance(r, list) for r in rings):
        if all(len(r) >= 6 and len(r) % 2 == 0 and all(map(_number, r)) for r in rings):
            return "polygon", rings
        return "segmentation must be lists of at least 3 x, y number pairs"
    box = item.get("bbox")
    if not isinstance(box, list) or len(box) != 4 or not all(map(_number, box)):
        return "needs bbox [x, y, width, height] of 4 numbers (or a polygon segmentation)"
    if box[2] <= 0 or box[3] <= 0:
        return "bbox width and height must be above 0"
    return "bbox", box


def from_coco(document: dict[str, Any], index: ImageIndex, source: str = "COCO file") -> ImportPlan:
    """Boxes and polygons of a COCO document (``bbox`` and polygon ``segmentation``), the whole
    document checked first: ``LabelFileError`` listing every bad entry."""
    problems: list[tuple[str, str]] = []
    names: dict[Any, str] = {}
    for number, category in enumerate(_entries(document, "categories", problems)):
        name = category.get("name")
        if not _key(category.get("id")) or not isinstance(name, str) or not name.strip():
            problems.append((f"categories[{number}]", "needs an id and a non-blank name"))
        else:
            names[category["id"]] = category["name"]
    files: dict[Any, str] = {}
    for number, entry in enumerate(_entries(document, "images", problems)):
        if not _key(entry.get("id")) or not isinstance(entry.get("file_name"), str):
            problems.append((f"images[{number}]", "needs an id and a file_name"))
        else:
            files[entry["id"]] = entry["file_name"]
    shapes: list[tuple[Any, str, tuple[str, Any]]] = []
    for number, item in enumerate(_entries(document, "annotations", problems)):
        where = f"annotations[{number}]" + (f" (id {item['id']})" if _key(item.get("id")) else "")
        shape = _coco_shape(item)
        if item.get("image_id") not in files or not _key(item.get("image_id")):
            problems.append((where, f"image_id {item.get('image_id')!r} is not in images"))
        elif item.get("category_id") not in names or not _key(item.get("category_id")):
            problems.append(
                (where, f"category_id {item.get('category_id')!r} is not in categories")
            )
        elif isinstance(shape, str):
            problems.append((where, shape))
        else:
            shapes.append((item["image_id"], names[item["category_id"]], shape))
    if problems:
        raise LabelFileError(source, problems)

    plan = ImportPlan()
    images = {}
    for key, file_name in files.items():
        found = index.find(file_name)
        if found is None:
            plan.unmatched.append(file_name)
        else:
            images[key] = found.id
            plan.saves.setdefault(found.id, [])
    for key, name, (kind, geometry) in shapes:
        if key not in images:
            continue
        if kind == "polygon":
            paths = [[{"x": r[i], "y": r[i + 1]} for i in range(0, len(r), 2)] for r in geometry]
            annotation = {"id": str(uuid.uuid4()), "name": name, "type": "polygon",
                          "confidence": 1.0, "attributes": [],
                          "polygon": {"paths": paths}}  # fmt: skip
        else:
            annotation = _box(name, *geometry)
        plan.classes.setdefault(name, kind)
        plan.saves[images[key]].append(annotation)
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


def _yolo_box(line: str, names: list[str]) -> tuple[str, list[float]] | str:
    """(class name, [cx, cy, w, h]) of a YOLO label line; the reason when it is not one."""
    parts = line.split()
    if len(parts) != 5:
        return f"expected 5 values (class cx cy w h), got {len(parts)}"
    if not parts[0].isdigit() or int(parts[0]) >= len(names):
        return f"class {parts[0]!r} is not one of the {len(names)} classes (0 to {len(names) - 1})"
    try:
        values = [float(v) for v in parts[1:]]
    except ValueError:
        return "cx, cy, w and h must be numbers"
    if not all(map(math.isfinite, values)) or values[2] <= 0 or values[3] <= 0:
        return "cx, cy, w and h must be finite numbers, w and h above 0"
    return names[int(parts[0])], values


def _image_path(label: Path) -> str:
    """The image path a label names: its path below its last ``labels`` folder, with the
    suffix of the one image file the matching ``images`` folder holds for it (else none)."""
    parts = label.with_suffix("").parts
    last = len(parts) - 1 - parts[::-1].index("labels")
    relative = "/".join(parts[last + 1 :])
    beside = Path(*parts[:last], "images", relative)
    found = list(beside.parent.glob(glob.escape(beside.name) + ".*"))
    return relative + found[0].suffix if len(found) == 1 else relative


def _renamed_labels(folder: Path) -> dict[str, str]:
    """label member -> the image's path in the dataset, for the images our export renamed
    (``manifest.json``'s ``renamed``: archive member -> the member it would have had)."""
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return {}
    try:
        renamed = json.loads(manifest.read_text(encoding="utf-8")).get("renamed") or {}
    except (ValueError, AttributeError):
        return {}
    found = {}
    for member, wanted in renamed.items():
        found[yolo_label_of(member)] = str(wanted).split("images/", 1)[-1]
    return found


def from_yolo(folder: Path, index: ImageIndex) -> ImportPlan:
    """Boxes of every ``*.txt`` under ``folder``'s ``labels`` folders (any split), every line of
    every file checked first: ``LabelFileError`` listing each bad line."""
    plan = ImportPlan()
    names = yolo_names(folder)
    renamed = _renamed_labels(folder)
    problems: list[tuple[str, str]] = []
    for label in sorted(folder.rglob("*.txt")):
        if label.name in ("classes.txt",) or "labels" not in label.parts:
            continue
        member = label.relative_to(folder).as_posix()
        image = index.find(renamed.get(member) or _image_path(label))
        if image is None or not image.width or not image.height:
            plan.unmatched.append(label.name)
            continue
        boxes = plan.saves.setdefault(image.id, [])
        try:
            lines = label.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            problems.append((str(label.relative_to(folder)), "not a UTF-8 text file"))
            continue
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            parsed = _yolo_box(line, names)
            if isinstance(parsed, str):
                problems.append((f"{label.relative_to(folder)}:{number}", parsed))
                continue
            name, (cx, cy, w, h) = parsed
            x, y = (cx - w / 2) * image.width, (cy - h / 2) * image.height
            boxes.append(_box(name, x, y, w * image.width, h * image.height))
            plan.classes.setdefault(name, "bbox")
    if problems:
        raise LabelFileError(str(folder), problems)
    return plan

"""The ``yolo`` layout, as ultralytics reads it.

- ``data.yaml`` has no ``path``: ultralytics then takes the dataset root from the folder the yaml
  is in (``check_det_dataset``), so training works from any working directory. ``train``/``val``/
  ``test`` are relative to it and name only folders the archive holds.
- ``images/<folder>/<name>`` mirrors the dataset; each label sits where ultralytics looks for it
  (``img2label_paths``: the last ``/images/`` of the image path becomes ``/labels/`` and the
  suffix ``.txt``). Two images that would share a label (``a.jpg``, ``a.webp`` in one folder)
  are told apart by renaming the later one in the archive (``a_webp.webp``), listed in
  ``manifest.json`` under ``renamed``.
- Classes: the dataset's class order (after the filter), the same for every split.
"""

from __future__ import annotations

import json
from typing import Any

from pictograph.protocol import yolo_label_of
from pictograph.server.service import export_shapes as shapes
from pictograph.server.service.export_archive import Archive
from pictograph.server.service.export_job import Job, manifest
from pictograph.server.service.export_places import Places
from pictograph.server.service.export_rows import relative_path

#: ``data.yaml`` key and archive folder of each split part.
SPLIT_KEYS = {"train": "train", "valid": "val", "test": "test"}


def yolo(job: Job, out: Archive) -> None:
    names = job.class_names()
    index = {name: i for i, name in enumerate(names)}
    places = Places(yolo_label_of)
    filled: list[str] = []
    for prefix, split in job.splits():
        count = 0
        for row in job.rows(split):
            image, label = places.place(f"{prefix}images/{relative_path(row)}")
            lines = [line for item in row["annotations"] if (line := _line(item, row, index))]
            out.text(label, "".join(f"{line}\n" for line in lines))
            if job.export["include_images"]:
                out.image(image, row["blob_key"])
            count += 1
            job.annotation_count += len(lines)
        job.image_count += count
        if count:
            filled.append(split or "")
    out.text("data.yaml", data_yaml(names, filled, by_split=bool(job.export["organize_by_split"])))
    out.json("manifest.json", manifest(job, out, renamed=places.renamed))


def data_yaml(names: list[str], filled: list[str], *, by_split: bool) -> str:
    """``data.yaml`` naming only folders that hold images; ``val`` (which ultralytics requires)
    falls back to the training images when no image has the split ``val``."""
    lines = [
        "# Written by Pictograph. No `path:` on purpose: ultralytics then resolves train/val/test",
        "# against the folder this file is in, from whatever directory training runs.",
    ]
    if not by_split:
        lines += ["train: images", "val: images"]
    else:
        folders = {SPLIT_KEYS[split]: f"{split}/images" for split in filled}
        if "val" not in folders:
            lines.append("# No image has the split `val`: validating on the training images.")
            folders["val"] = folders.get("train", "train/images")
        folders.setdefault("train", folders["val"])
        lines += [f"{key}: {folders[key]}" for key in ("train", "val", "test") if key in folders]
    lines += [f"nc: {len(names)}", f"names: {json.dumps(names)}"]
    return "\n".join(lines) + "\n"


def _line(item: Any, row: dict[str, Any], index: dict[str, int]) -> str | None:
    width, height = row["width"], row["height"]
    if shapes.kind(item) is None or item.get("name") not in index or not width or not height:
        return None
    x, y, w, h = shapes.outer_box(item)
    cx, cy = (x + w / 2) / width, (y + h / 2) / height
    return f"{index[item['name']]} {cx:.6f} {cy:.6f} {w / width:.6f} {h / height:.6f}"

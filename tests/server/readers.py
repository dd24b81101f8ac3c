"""The readers people train with, as the tests apply them to our archives.

Ultralytics is not installed (it pulls torch); ``ultralytics_dataset`` follows its documented
resolution rules, quoted from ``ultralytics/data/utils.py`` and ``ultralytics/data/base.py``
(8.x), https://docs.ultralytics.com/datasets/detect/:

- ``check_det_dataset``: ``path = Path(extract_dir or data.get("path") or
  Path(data.get("yaml_file", "")).parent)``; ``if not path.exists() and not path.is_absolute():
  path = (DATASETS_DIR / path).resolve()``; then for ``train``/``val``/``test``:
  ``x = (path / data[k]).resolve()``. So a relative ``path`` is taken against the current
  directory (``path: .`` is wherever training runs), and a missing ``path`` means the folder the
  yaml file is in. ``train`` and ``val`` are required keys.
- ``BaseDataset.get_img_files``: every ``**/*.*`` under a folder (recursive), kept when its
  suffix is an image format; a folder that does not exist is a ``FileNotFoundError``, and no
  image found an ``AssertionError``.
- ``img2label_paths``: ``sb.join(x.rsplit(sa, 1)).rsplit(".", 1)[0] + ".txt"`` with ``sa =
  "/images/"`` and ``sb = "/labels/"``: the label of an image is its path with the last
  ``/images/`` made ``/labels/`` and its suffix ``.txt``.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any

import yaml

#: ultralytics.data.utils.IMG_FORMATS
IMG_FORMATS = {"bmp", "dng", "jpeg", "jpg", "mpo", "png", "tif", "tiff", "webp", "pfm", "heic"}
#: Where ultralytics looks for a relative ``path`` that does not exist (its settings' default).
DATASETS_DIR = Path("/nonexistent/ultralytics-datasets")


def check_det_dataset(yaml_file: Path) -> dict[str, Any]:
    """The dataset dictionary ultralytics builds, run from the current directory."""
    data = yaml.safe_load(yaml_file.read_text())
    data["yaml_file"] = str(yaml_file)
    for key in ("train", "val"):
        assert key in data, f"'{key}:' key missing: 'train' and 'val' are required"
    path = Path(data.get("path") or Path(data.get("yaml_file", "")).parent)
    if not path.exists() and not path.is_absolute():
        path = (DATASETS_DIR / path).resolve()
    data["path"] = path
    for key in ("train", "val", "test"):
        if data.get(key):
            data[key] = str((path / data[key]).resolve())
    return data


def get_img_files(folder: str) -> list[str]:
    p = Path(folder)
    if not p.is_dir():
        raise FileNotFoundError(f"{p} does not exist")
    found = glob.glob(str(p / "**" / "*.*"), recursive=True)
    files = sorted(x for x in found if x.split(".")[-1].lower() in IMG_FORMATS)
    assert files, f"No images found in {folder}"
    return files


def img2label_paths(img_paths: list[str]) -> list[str]:
    sa, sb = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    return [sb.join(x.rsplit(sa, 1)).rsplit(".", 1)[0] + ".txt" for x in img_paths]


def ultralytics_dataset(yaml_file: Path) -> dict[str, dict[str, list[list[float]]]]:
    """``{split key: {image file: label rows}}`` as ultralytics finds them from the current
    directory; a missing label file is an assertion error (ultralytics would train on it as a
    negative silently, which is what the findings were about)."""
    data = check_det_dataset(yaml_file)
    found: dict[str, dict[str, list[list[float]]]] = {}
    for key in ("train", "val", "test"):
        if not data.get(key):
            continue
        images = get_img_files(data[key])
        labels = img2label_paths(images)
        found[key] = {}
        for image, label in zip(images, labels, strict=True):
            assert Path(label).is_file(), f"no label file {label} for {image}"
            rows = [[float(v) for v in line.split()] for line in Path(label).read_text().split("\n")
                    if line.strip()]  # fmt: skip
            found[key][image] = rows
    return found


def yolo_boxes(rows: list[list[float]], names: list[str], size: tuple[int, int]) -> list[Any]:
    """Denormalised ``(class, x, y, w, h)`` of YOLO rows, rounded to 3 decimals."""
    width, height = size
    boxes = []
    for index, cx, cy, w, h in rows:
        x, y = (cx - w / 2) * width, (cy - h / 2) * height
        measured = (x, y, w * width, h * height)
        boxes.append((names[int(index)], *(round(v, 3) for v in measured)))
    return sorted(boxes)

"""``pictograph export`` and ``pictograph import``: a class-folder upload exported as image
folders, and COCO labels exported then imported onto another dataset."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from tests.cli.runner import Pictograph, expect, one_error_line


def test_an_imagefolder_export_gives_back_the_uploaded_class_folders(
    pictograph: Pictograph, road_signs: Path, tmp_path: Path
) -> None:
    expect(pictograph("upload", road_signs, "-d", "signs", "-q"), 0)
    target = tmp_path / "signs.zip"
    done = pictograph.json("export", "signs", "--format", "imagefolder", "-o", target)
    assert done["status"] == "completed" and done["image_count"] == 6

    archive = zipfile.ZipFile(target)
    unpacked = {n: hashlib.sha256(archive.read(n)).hexdigest() for n in archive.namelist()}
    originals = {
        str(p.relative_to(road_signs)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in road_signs.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }
    # An upload by class folders files nested images under their top class folder.
    expected = {_class_path(k): v for k, v in originals.items()}
    assert unpacked == expected


def _class_path(relative: str) -> str:
    parts = relative.split("/")
    return f"unsorted/{relative}" if len(parts) == 1 else f"{parts[0]}/{parts[-1]}"


def test_coco_labels_exported_then_imported_onto_another_dataset_come_back(
    pictograph: Pictograph, road_signs: Path, tmp_path: Path
) -> None:
    for name in ("src", "dst"):
        expect(pictograph("upload", road_signs, "-d", name, "-q"), 0)
    coco = {
        "images": [{"id": 1, "file_name": "stop/001.jpg", "width": 32, "height": 24},
                   {"id": 2, "file_name": "006.jpg", "width": 32, "height": 24},
                   {"id": 3, "file_name": "not-there.jpg", "width": 1, "height": 1}],
        "categories": [{"id": 1, "name": "sign"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 10, 8]},
                        {"id": 2, "image_id": 2, "category_id": 1, "bbox": [3, 3, 5, 5]}],
    }  # fmt: skip
    (tmp_path / "in.json").write_text(json.dumps(coco))
    first = pictograph.json("import", "src", "coco", tmp_path / "in.json")
    assert (first["images"], first["annotations"]) == (2, 2)
    assert first["unmatched"] == ["not-there.jpg"]

    out = tmp_path / "coco.zip"
    expect(pictograph("export", "src", "--format", "coco", "--no-images", "-o", out), 0)
    (tmp_path / "coco").mkdir()
    zipfile.ZipFile(out).extractall(tmp_path / "coco")
    again = pictograph.json("import", "dst", "coco", tmp_path / "coco" / "annotations.json")
    assert (again["images"], again["annotations"]) == (6, 2)

    yolo = tmp_path / "yolo.zip"
    expect(pictograph("export", "src", "--format", "yolo", "-o", yolo), 0)
    zipfile.ZipFile(yolo).extractall(tmp_path / "yolo")
    from_yolo = pictograph.json("import", "dst", "yolo", tmp_path / "yolo")
    assert (from_yolo["images"], from_yolo["annotations"]) == (6, 2)


def test_exporting_an_unknown_format_or_class_is_a_clear_error(
    pictograph: Pictograph, road_signs: Path, tmp_path: Path
) -> None:
    expect(pictograph("upload", road_signs, "-d", "signs", "-q"), 0)
    bad = expect(pictograph("export", "signs", "--class", "unicorn", "-o", tmp_path / "x.zip"), 6)
    assert "unicorn" in one_error_line(bad)
    missing = pictograph("export", "nope", "-o", tmp_path / "x.zip")
    assert "nope" in one_error_line(expect(missing, 4))

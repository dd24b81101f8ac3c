"""``pictograph import`` of bad label files: the whole file is checked before anything is saved,
each bad entry is named with its reason, and the command exits 6 with one error line (never a
traceback, never a wrong class); counts are what the server saved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.runner import Pictograph, expect, one_error_line

GOOD_IMAGE = {"id": 1, "file_name": "stop/001.jpg"}
CATEGORIES = [{"id": 1, "name": "sign"}]


def _state(pictograph: Pictograph) -> tuple[Any, Any]:
    """The dataset's classes and every image's annotation count."""
    classes = pictograph.json("datasets", "show", "signs")["classes"]
    images = pictograph.json("images", "list", "signs", "--all")
    return classes, sorted((i["filename"], i["annotation_count"]) for i in images)


def _coco(**changes: Any) -> dict[str, Any]:
    return {
        "images": [GOOD_IMAGE],
        "categories": CATEGORIES,
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 10, 8]}],
        **changes,
    }


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


BAD_COCO: list[tuple[str, Any, list[str]]] = [
    ("no-file-name", _coco(images=[{"id": 1}]), ["images[0]", "file_name"]),
    (
        "no-bbox",
        _coco(annotations=[{"id": 7, "image_id": 1, "category_id": 1}]),
        ["annotations[0] (id 7)", "bbox"],
    ),
    (
        "text-bbox",
        _coco(annotations=[{"id": 1, "image_id": 1, "category_id": 1, "bbox": "abcd"}]),
        ["annotations[0]", "bbox"],
    ),
    (
        "zero-width",
        _coco(annotations=[{"image_id": 1, "category_id": 1, "bbox": [1, 1, 0, 5]}]),
        ["annotations[0]", "above 0"],
    ),
    (
        "unknown-category",
        _coco(annotations=[{"image_id": 1, "category_id": 9, "bbox": [1, 1, 2, 2]}]),
        ["annotations[0]", "category_id 9"],
    ),
    ("top-level-list", [GOOD_IMAGE], ["COCO file is a JSON object, not a list"]),
    ("deeply-nested", _nested(100_000), ["nested too deeply"]),
    ("not-json", "{images: nope", ["not JSON"]),
]


@pytest.mark.parametrize(("case", "document", "said"), BAD_COCO, ids=[c[0] for c in BAD_COCO])
def test_a_bad_coco_file_is_refused_whole_with_each_problem_named(
    pictograph: Pictograph,
    road_signs: Path,
    tmp_path: Path,
    case: str,
    document: Any,
    said: list[str],
) -> None:
    expect(pictograph("upload", road_signs, "-d", "signs", "-q"), 0)
    before = _state(pictograph)
    path = tmp_path / f"{case}.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    line = one_error_line(expect(pictograph("import", "signs", "coco", path), 6))
    for words in said:
        assert words in line, line
    assert "nothing was imported" in line
    assert _state(pictograph) == before


def test_every_bad_entry_is_listed_and_a_good_entry_beside_them_is_not_saved(
    pictograph: Pictograph, road_signs: Path, tmp_path: Path
) -> None:
    expect(pictograph("upload", road_signs, "-d", "signs", "-q"), 0)
    before = _state(pictograph)
    annotations = [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 10, 8]},
        {"id": 2, "image_id": 1, "category_id": 1, "bbox": "abcd"},
        {"id": 3, "image_id": 5, "category_id": 1, "bbox": [1, 2, 3, 4]},
    ]
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(_coco(annotations=annotations)))
    line = one_error_line(expect(pictograph("import", "signs", "coco", path), 6))
    assert "2 problems" in line
    assert "annotations[1] (id 2)" in line and "annotations[2] (id 3)" in line
    assert "image_id 5" in line and "annotations[0]" not in line
    assert _state(pictograph) == before


def _yolo(folder: Path, lines: list[str]) -> Path:
    (folder / "labels").mkdir(parents=True)
    (folder / "classes.txt").write_text("sign\ncar\n")
    (folder / "labels" / "001.txt").write_text("\n".join(lines) + "\n")
    return folder


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("-1 0.5 0.5 0.2 0.2", "class '-1' is not one of the 2 classes (0 to 1)"),
        ("2 0.5 0.5 0.2 0.2", "class '2' is not one of the 2 classes"),
        ("x 0.5 0.5 0.2 0.2", "class 'x'"),
        ("0 0.5 0.5 0.2", "expected 5 values"),
        ("0 0.5 0.5 wide 0.2", "must be numbers"),
    ],
    ids=["minus-one", "out-of-range", "not-a-number", "four-values", "text-width"],
)
def test_a_bad_yolo_line_is_refused_whole_never_saved_as_another_class(
    pictograph: Pictograph, road_signs: Path, tmp_path: Path, line: str, said: str
) -> None:
    expect(pictograph("upload", road_signs, "-d", "signs", "-q"), 0)
    before = _state(pictograph)
    folder = _yolo(tmp_path / "yolo", ["0 0.5 0.5 0.2 0.2", line])
    error = one_error_line(expect(pictograph("import", "signs", "yolo", folder), 6))
    assert "labels/001.txt:2" in error and said in error, error
    assert _state(pictograph) == before


def test_a_good_import_counts_what_the_server_saved(
    pictograph: Pictograph, road_signs: Path, tmp_path: Path
) -> None:
    expect(pictograph("upload", road_signs, "-d", "signs", "-q"), 0)
    folder = _yolo(tmp_path / "yolo", ["0 0.5 0.5 0.2 0.2", "", "1 0.2 0.2 0.1 0.1"])
    done = pictograph.json("import", "signs", "yolo", folder)
    assert (done["images"], done["annotations"], done["failed"]) == (1, 2, [])
    classes, counts = _state(pictograph)
    assert [c["name"] for c in classes] == ["sign", "car"]
    assert ("001.jpg", 2) in counts

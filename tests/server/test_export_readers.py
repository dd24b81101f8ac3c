"""Every export format read by the reader its users train or label with (issue 21): YOLO as
ultralytics resolves it from any directory, COCO by pycocotools (every mask decoded), class
folders by Hugging Face ``datasets``' imagefolder, Pascal VOC, LabelMe, CVAT 1.1 and CSV by their
documented schemas."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import datasets
import pytest
import yaml
from globox import AnnotationSet
from pycocotools.coco import COCO

from pictograph.label_import import ImageIndex, from_yolo
from pictograph.models import Image
from tests.images import make_image, sha256_of
from tests.server.flows import P, create_dataset, upload
from tests.server.labelling import (
    CLASSES,
    box,
    create_export,
    download,
    labelled_dataset,
    save,
)
from tests.server.readers import ultralytics_dataset, yolo_boxes

#: What labelled_dataset saved: path -> sorted (class, kind, outer box x, y, w, h).
SAVED = {
    "a.png": [("thing", "bbox", 10.0, 20.0, 30.0, 40.0), ("thing", "bbox", 50.0, 5.0, 10.0, 10.0)],
    "b.jpg": [],
    "e.png": [],
    "sub/a.png": [
        ("shape", "polygon", 1.0, 1.0, 8.0, 8.0),
        ("thing", "bbox", 0.0, 0.0, 100.0, 80.0),
    ],
    "sub/c.png": [("shape", "polygon", 10.0, 10.0, 50.0, 40.0)],
}
RINGS = {"sub/c.png": [(10.0, 10.0), (60.0, 10.0), (60.0, 50.0)],
         "sub/a.png": [(1.0, 1.0), (9.0, 1.0), (9.0, 9.0), (1.0, 9.0)]}  # fmt: skip
#: The split each image is given (b.jpg has none: it goes to train).
SPLITS = {"a.png": "train", "sub/a.png": "val", "sub/c.png": "test", "e.png": "val"}


def _boxes(path: str) -> list[tuple[Any, ...]]:
    return sorted((name, *bounds) for name, _, *bounds in SAVED[path])


def _split(client: Any, dataset: str, path: str, split: str) -> None:
    answer = client.post(f"{P}/images/{dataset}/{path}/split", json={"split": split})
    assert answer.status_code == 200, answer.text


@pytest.fixture
def labelled(app_client: Any, tmp_path: Path) -> dict[Any, Any]:
    made = labelled_dataset(app_client, tmp_path)
    for path, split in SPLITS.items():
        _split(app_client, "roads", path, split)
    return made


def _unpack(client: Any, dataset: str, name: str, tmp_path: Path, **options: Any) -> Path:
    create_export(client, dataset, name, include_images=True, **options)
    archive = download(client, dataset, name, tmp_path / f"{name}.zip")
    target = tmp_path / name
    zipfile.ZipFile(archive).extractall(target)
    return target


# ---- YOLO, as ultralytics reads it --------------------------------------------------------------


@pytest.mark.parametrize("by_split", [False, True])
def test_yolo_resolves_from_any_working_directory_with_every_label_found(
    app_client: Any, labelled: dict[Any, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    by_split: bool,
) -> None:  # fmt: skip
    """Finding 1 (``path: .`` resolved against the current directory) and finding 2 (split
    folders named in data.yaml but absent)."""
    root = _unpack(app_client, "roads", "y", tmp_path, format="yolo", organize_by_split=by_split)
    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    found = ultralytics_dataset(root / "data.yaml")

    data = yaml.safe_load((root / "data.yaml").read_text())
    names = data["names"]
    assert names == ["thing", "shape"] and "path" not in data
    got: dict[str, list[Any]] = {}
    for images in found.values():
        for image, rows in images.items():
            relative = Path(image).relative_to(root).as_posix()
            got.setdefault(relative, yolo_boxes(rows, names, (100, 80)))
    if by_split:
        expected_folder = {"train": "train", "val": "valid", "test": "test"}
        want = {f"{expected_folder[SPLITS.get(p, 'train')]}/images/{p}" for p in SAVED}
        assert set(found) == {"train", "val", "test"}
        assert {Path(i).relative_to(root).as_posix() for i in found["val"]} == {
            "valid/images/sub/a.png", "valid/images/e.png"}  # fmt: skip
    else:
        want = {f"images/{p}" for p in SAVED}
    assert set(got) == want
    for member, boxes in got.items():
        path = member.split("images/", 1)[1]
        assert boxes == _boxes(path), member


def test_yolo_by_split_without_val_or_test_images_names_only_folders_it_holds(
    app_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 2: nothing has a split, everything goes to train; val falls back to train (it is
    required), test is left out; every folder named exists."""
    labelled_dataset(app_client, tmp_path)
    root = _unpack(app_client, "roads", "y", tmp_path, format="yolo", organize_by_split=True)
    monkeypatch.chdir(tmp_path)
    data = yaml.safe_load((root / "data.yaml").read_text())
    assert (data["train"], data["val"]) == ("train/images", "train/images")
    assert "test" not in data
    found = ultralytics_dataset(root / "data.yaml")
    assert len(found["train"]) == len(found["val"]) == 5


def test_yolo_labels_of_images_sharing_a_stem_in_one_folder_stay_apart(
    app_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 3: ``cat/chelsea.jpg`` and ``cat/chelsea.webp`` got one label file between them."""
    create_dataset(app_client, "pets", classes=CLASSES, annotation_types=["bbox"])
    uploaded = {}
    for index, name in enumerate(["chelsea.jpg", "chelsea.webp"]):
        path = make_image(tmp_path / "src" / name, size=(100, 80), seed=index)
        uploaded[name] = Image.model_validate(upload(app_client, "pets", path, directory="/cat"))
    save(app_client, "pets", "cat/chelsea.jpg", [box("thing", 10, 10, 20, 20)])
    save(app_client, "pets", "cat/chelsea.webp", [box("shape", 1, 2, 30, 40)])
    root = _unpack(app_client, "pets", "y", tmp_path, format="yolo")
    monkeypatch.chdir(tmp_path)

    found = ultralytics_dataset(root / "data.yaml")["train"]

    names = ["thing", "shape"]
    got = {Path(i).relative_to(root).as_posix(): yolo_boxes(r, names, (100, 80))
           for i, r in found.items()}  # fmt: skip
    assert got == {
        "images/cat/chelsea.jpg": [("thing", 10.0, 10.0, 20.0, 20.0)],
        "images/cat/chelsea_webp.webp": [("shape", 1.0, 2.0, 30.0, 40.0)],
    }
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["renamed"] == {"images/cat/chelsea_webp.webp": "images/cat/chelsea.webp"}

    # `pictograph import yolo` reads the archive back onto the right images (finding 4, ours).
    plan = from_yolo(root, ImageIndex(uploaded.values()))
    assert plan.unmatched == []
    back = {
        image.filename: [(a["name"], *(round(v, 3) for v in a["bounding_box"].values()))
                         for a in plan.saves[image.id]]
        for image in uploaded.values()
    }  # fmt: skip
    assert back == {"chelsea.jpg": [("thing", 10.0, 10.0, 20.0, 20.0)],
                    "chelsea.webp": [("shape", 1.0, 2.0, 30.0, 40.0)]}  # fmt: skip


# ---- COCO, as pycocotools reads it --------------------------------------------------------------


def test_coco_every_annotation_decodes_to_a_mask_and_boxes_stay_boxes(
    app_client: Any, labelled: dict[Any, Any], tmp_path: Path
) -> None:
    """Finding 5: box annotations had ``"segmentation": []``, and ``annToMask`` raised."""
    root = _unpack(app_client, "roads", "c", tmp_path, format="coco")
    coco = COCO(str(root / "annotations.json"))
    names = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
    got: dict[str, list[Any]] = {}
    for image in coco.loadImgs(coco.getImgIds()):
        assert sha256_of(root / "images" / image["file_name"])
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
        got[image["file_name"]] = sorted(
            (names[a["category_id"]], "polygon" if isinstance(a["segmentation"], list) else "bbox",
             *a["bbox"]) for a in anns)  # fmt: skip
        for ann in anns:
            mask = coco.annToMask(ann)
            assert mask.shape == (80, 100)
            if not isinstance(ann["segmentation"], list):  # a box: exactly its pixels
                x, y, w, h = (int(v) for v in ann["bbox"])
                assert mask.sum() == w * h == ann["area"]
                assert mask[y : y + h, x : x + w].all()
            else:
                assert abs(int(mask.sum()) - ann["area"]) <= ann["area"] * 0.5 + 10
                ring = ann["segmentation"][0]
                assert list(zip(ring[::2], ring[1::2], strict=True)) == RINGS[image["file_name"]]
    assert got == {path: sorted(SAVED[path]) for path in SAVED}


def test_the_manifest_lists_the_polygons_a_bbox_dataset_holds(
    app_client: Any, tmp_path: Path
) -> None:
    """Finding 5: ``annotation_types`` stayed ``["bbox"]`` though polygons were exported."""
    labelled_dataset(app_client, tmp_path, types=("bbox",))
    root = _unpack(app_client, "roads", "p", tmp_path, format="pictograph")
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["annotation_types"] == ["bbox", "polygon"]


# ---- class folders, as Hugging Face datasets reads them ----------------------------------------


def test_class_folders_load_with_hugging_face_imagefolder(
    app_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))
    create_dataset(app_client, "pets")
    originals = {}
    for index, relative in enumerate(["cats/1.jpg", "cats/2.png", "dogs/1.jpg", "dogs/3.webp"]):
        path = make_image(tmp_path / "pets" / relative, seed=index)
        upload(app_client, "pets", path, directory="/" + relative.split("/")[0])
        originals[relative] = sha256_of(path)
    root = _unpack(app_client, "pets", "f", tmp_path, format="imagefolder")

    loaded = datasets.load_dataset("imagefolder", data_dir=str(root), split="train")

    labels = loaded.features["label"].names
    assert labels == ["cats", "dogs"]
    assert sorted(labels[row["label"]] for row in loaded) == ["cats", "cats", "dogs", "dogs"]


# ---- Pascal VOC, LabelMe, CVAT 1.1 and CSV by their documented schemas ------------------------


def test_pascal_voc_xml_gives_every_box_back(
    app_client: Any, labelled: dict[Any, Any], tmp_path: Path
) -> None:
    root = _unpack(app_client, "roads", "v", tmp_path, format="pascal_voc")
    got = {}
    for document in sorted((root / "Annotations").rglob("*.xml")):
        tree = ET.parse(document).getroot()  # noqa: S314 - our own archive
        assert tree.tag == "annotation"
        folder, filename = tree.findtext("folder") or "", tree.findtext("filename") or ""
        path = f"{folder}/{filename}".lstrip("/")
        assert (root / "JPEGImages" / path).is_file()
        assert (tree.findtext("size/width"), tree.findtext("size/height")) == ("100", "80")
        objects = []
        for found in tree.findall("object"):
            corners = [float(found.findtext(f"bndbox/{k}") or "nan")
                       for k in ("xmin", "ymin", "xmax", "ymax")]  # fmt: skip
            x0, y0, x1, y1 = corners
            objects.append((found.findtext("name"), x0, y0, x1 - x0, y1 - y0))
        got[path] = sorted(objects)
    assert got == {path: _boxes(path) for path in SAVED}


def test_labelme_json_beside_each_image_gives_rectangles_and_polygons_back(
    app_client: Any, labelled: dict[Any, Any], tmp_path: Path
) -> None:
    root = _unpack(app_client, "roads", "l", tmp_path, format="labelme")
    got = {}
    for document in sorted(root.rglob("*.json")):
        data = json.loads(document.read_text())
        image = document.parent / data["imagePath"]
        assert image.is_file() and data["imageData"] is None
        assert (data["imageWidth"], data["imageHeight"]) == (100, 80)
        path = image.relative_to(root).as_posix()
        shapes = []
        for shape in data["shapes"]:
            if shape["shape_type"] == "rectangle":
                (x0, y0), (x1, y1) = shape["points"]
                shapes.append((shape["label"], "bbox", x0, y0, x1 - x0, y1 - y0))
            else:
                assert shape["shape_type"] == "polygon"
                assert [tuple(p) for p in shape["points"]] == RINGS[path]
                xs, ys = [p[0] for p in shape["points"]], [p[1] for p in shape["points"]]
                bounds = (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
                shapes.append((shape["label"], "polygon", *bounds))
        got[path] = sorted(shapes)
    assert got == {path: sorted(SAVED[path]) for path in SAVED}


def test_cvat_for_images_1_1_gives_boxes_and_polygons_back(
    app_client: Any, labelled: dict[Any, Any], tmp_path: Path
) -> None:
    root = _unpack(app_client, "roads", "x", tmp_path, format="cvat", organize_by_split=True)
    got = {}
    for part in ("train", "valid", "test"):
        tree = ET.parse(root / part / "annotations.xml").getroot()  # noqa: S314
        assert tree.tag == "annotations" and tree.findtext("version") == "1.1"
        labels = [label.findtext("name") for label in tree.findall("meta/task/labels/label")]
        assert labels == ["thing", "shape"]
        for image in tree.findall("image"):
            path = image.get("name") or ""
            assert (root / part / "images" / path).is_file()
            assert image.get("subset") == SPLITS.get(path)
            shapes = []
            for found in image.findall("box"):
                x0, y0, x1, y1 = (
                    float(found.get(k) or "nan") for k in ("xtl", "ytl", "xbr", "ybr")
                )
                shapes.append((found.get("label"), "bbox", x0, y0, x1 - x0, y1 - y0))
            for found in image.findall("polygon"):
                points = [tuple(float(v) for v in p.split(",")) for p in
                          (found.get("points") or "").split(";")]  # fmt: skip
                assert points == RINGS[path]
                xs, ys = [p[0] for p in points], [p[1] for p in points]
                bounds = (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
                shapes.append((found.get("label"), "polygon", *bounds))
            got[path] = sorted(shapes)
    assert got == {path: sorted(SAVED[path]) for path in SAVED}


def test_csv_rows_hold_every_box_with_its_documented_columns(
    app_client: Any, labelled: dict[Any, Any], tmp_path: Path
) -> None:
    root = _unpack(app_client, "roads", "s", tmp_path, format="csv")
    with (root / "annotations.csv").open(newline="") as source:
        rows = list(csv.DictReader(source))
    assert list(rows[0]) == ["filename", "width", "height", "class", "xmin", "ymin", "xmax",
                             "ymax", "type", "points", "split"]  # fmt: skip
    got: dict[str, list[Any]] = {}
    for row in rows:
        assert (root / "images" / row["filename"]).is_file()
        assert row["split"] == SPLITS.get(row["filename"], "")
        boxes = got.setdefault(row["filename"], [])
        if row["class"]:
            x0, y0, x1, y1 = (float(row[k]) for k in ("xmin", "ymin", "xmax", "ymax"))
            boxes.append((row["class"], row["type"], x0, y0, x1 - x0, y1 - y0))
            if row["type"] == "polygon":
                assert [tuple(p) for p in json.loads(row["points"])] == RINGS[row["filename"]]
    assert {path: sorted(boxes) for path, boxes in got.items()} == {
        path: sorted(SAVED[path]) for path in SAVED
    }


def test_the_same_dataset_exported_twice_is_the_same_bytes(
    app_client: Any, labelled: dict[Any, Any], tmp_path: Path
) -> None:
    """Fixed member times, members in path order, no export id or time in any member."""
    for name in ("one", "two"):
        create_export(app_client, "roads", name, format="yolo", include_images=True)
    first = download(app_client, "roads", "one", tmp_path / "1.zip").read_bytes()
    second = download(app_client, "roads", "two", tmp_path / "2.zip").read_bytes()
    assert first == second


@pytest.mark.parametrize("fmt", ["pascal_voc", "labelme", "cvat"])
def test_globox_a_converter_reads_the_same_boxes_from_voc_labelme_and_cvat(
    app_client: Any, labelled: dict[Any, Any], tmp_path: Path, fmt: str
) -> None:
    """An independent reader (globox, which converts between these formats) agrees: every box
    (and, for VOC and LabelMe, every polygon's box) on the image it names."""
    root = _unpack(app_client, "roads", fmt, tmp_path, format=fmt)
    # globox keys an image by its file name, so each folder is read on its own.
    base = root / "Annotations" if fmt == "pascal_voc" else root
    folders = [base, *sorted(p for p in base.rglob("*") if p.is_dir() and p.name != "images")]
    sets = []
    for folder in folders if fmt != "cvat" else []:
        prefix = folder.relative_to(base).as_posix().removeprefix(".")
        if fmt == "pascal_voc":
            sets.append((prefix, AnnotationSet.from_pascal_voc(folder)))
        else:
            sets.append((prefix, AnnotationSet.from_labelme(folder, include_poly=True)))
    if fmt == "cvat":
        sets.append(("", AnnotationSet.from_cvat(root / "annotations.xml")))
    got: dict[str, list[Any]] = {}
    for prefix, found in sets:
        for annotation in found:
            boxes = [(b.label, b.xmin, b.ymin, b.xmax - b.xmin, b.ymax - b.ymin)
                     for b in annotation.boxes]  # fmt: skip
            key = f"{prefix}/{annotation.image_id}".lstrip("/")
            got.setdefault(key, []).extend(boxes)
    polygons_kept = fmt != "cvat"  # globox reads CVAT boxes only
    want: dict[str, list[Any]] = {}
    for path, saved in SAVED.items():
        key = path
        kept = [(name, *bounds) for name, kind, *bounds in saved
                if polygons_kept or kind == "bbox"]  # fmt: skip
        want.setdefault(key, []).extend(kept)
    assert {k: sorted(v) for k, v in got.items() if v} == {
        k: sorted(v) for k, v in want.items() if v
    }

"""Exports: archives read back with pycocotools and a YOLO reader; jobs that survive crashes."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pycocotools.coco import COCO

from pictograph.server.service.context import now
from pictograph.server.store import tables as t
from tests.images import make_image, sha256_of
from tests.server.flows import P, create_dataset, upload
from tests.server.labelling import create_export, download, labelled_dataset, wait_for_export


@pytest.fixture
def labelled(app_client: Any, tmp_path: Path) -> dict[Any, Any]:
    return labelled_dataset(app_client, tmp_path)


EXPECTED_BOXES = {
    "a.png": sorted([("thing", 10.0, 20.0, 30.0, 40.0), ("thing", 50.0, 5.0, 10.0, 10.0)]),
    "sub/c.png": [("shape", 10.0, 10.0, 50.0, 40.0)],
    "sub/a.png": sorted([("thing", 0.0, 0.0, 100.0, 80.0), ("shape", 1.0, 1.0, 8.0, 8.0)]),
    "b.jpg": [],
    "e.png": [],
}


def _place(relative: str) -> tuple[str, str]:
    folder, _, name = relative.rpartition("/")
    return (f"/{folder}" if folder else "/", name)


def test_a_coco_export_read_by_pycocotools_gives_the_same_boxes_back(
    app_client: Any, labelled: dict[Any, Any], tmp_path: Path
) -> None:
    done = create_export(app_client, "roads", "coco-1", format="coco", include_images=True)
    assert (done["image_count"], done["annotation_count"]) == (5, 5)
    archive = zipfile.ZipFile(download(app_client, "roads", "coco-1", tmp_path / "coco.zip"))
    archive.extractall(tmp_path / "coco")

    coco = COCO(str(tmp_path / "coco" / "annotations.json"))
    names = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
    found = {}
    for image in coco.loadImgs(coco.getImgIds()):
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
        found[image["file_name"]] = sorted((names[a["category_id"]], *a["bbox"]) for a in anns)
        assert (image["width"], image["height"]) == (100, 80)
        stored = tmp_path / "coco" / "images" / image["file_name"]
        assert sha256_of(stored) == labelled[_place(image["file_name"])]["sha256"]
    assert found == EXPECTED_BOXES
    shape_ids = [key for key, value in names.items() if value == "shape"]
    shapes = coco.loadAnns(coco.getAnnIds(catIds=shape_ids))
    assert sorted(a["area"] for a in shapes) == [64.0, 1000.0]
    assert coco.annToMask(shapes[0]).sum() > 0


def test_a_pictograph_export_split_by_split_holds_a_manifest_and_one_json_per_image(
    app_client: Any, labelled: dict[Any, Any], tmp_path: Path
) -> None:
    first = labelled[("/", "a.png")]["id"]
    create_export(app_client, "roads", "p-1", organize_by_split=True, class_filter=["thing"])
    archive = zipfile.ZipFile(download(app_client, "roads", "p-1", tmp_path / "p.zip"))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["image_count"] == 5 and manifest["annotation_count"] == 3
    assert [c["name"] for c in manifest["classes"]] == ["thing"]
    document = json.loads(archive.read("train/annotations/a.png.json"))
    assert document["image"]["id"] == first
    assert {a["name"] for a in document["annotations"]} == {"thing"}


def test_an_imagefolder_export_gives_back_the_same_files_in_the_same_class_folders(
    app_client: Any, tmp_path: Path
) -> None:
    create_dataset(app_client, "pets")
    originals = {}
    for index, relative in enumerate(["cats/1.jpg", "cats/2.png", "dogs/1.jpg", "dogs/3.webp"]):
        path = make_image(tmp_path / "pets" / relative, seed=index)
        upload(app_client, "pets", path, directory="/" + relative.split("/")[0])
        originals[relative] = sha256_of(path)

    create_export(app_client, "pets", "folders", format="imagefolder")
    archive = zipfile.ZipFile(download(app_client, "pets", "folders", tmp_path / "f.zip"))

    unpacked = {name: hashlib.sha256(archive.read(name)).hexdigest() for name in archive.namelist()}
    assert unpacked == originals


def test_bad_export_requests_are_clear_4xx_answers_in_the_error_envelope(
    app_client: Any, labelled: dict[Any, Any]
) -> None:
    def post(**body: Any) -> Any:
        return app_client.post(f"{P}/exports/", json={"dataset_name": "roads", "name": "x", **body})

    unknown = post(format="parquet")
    assert unknown.status_code == 422
    assert "parquet" in unknown.json()["error"]["message"]
    no_class = post(class_filter=["thing", "unicorn"])
    assert no_class.status_code == 422 and "unicorn" in no_class.json()["error"]["message"]
    assert post(status_filter="done").status_code == 422
    assert post().status_code == 201
    taken = post()
    assert taken.status_code == 409 and "already exists" in taken.json()["error"]["message"]
    missing = app_client.post(f"{P}/exports/", json={"dataset_name": "nope", "name": "x"})
    assert missing.status_code == 404
    assert app_client.get(f"{P}/exports/x", params={"dataset": "nope"}).status_code == 404
    assert app_client.get(f"{P}/exports/ghost", params={"dataset": "roads"}).status_code == 404
    assert app_client.get(f"{P}/exports/ghost").status_code == 404


def test_exports_are_listed_newest_first_found_by_id_and_deleted_with_their_archive(
    app_client: Any, labelled: dict[Any, Any]
) -> None:
    first = create_export(app_client, "roads", "one/with slash")
    second = create_export(app_client, "roads", "two")
    listed = app_client.get(f"{P}/exports/", params={"dataset_name": "roads"}).json()
    assert [e["name"] for e in listed["data"]] == ["two", "one/with slash"]
    assert listed["pagination"]["has_more"] is False
    assert app_client.get(f"{P}/exports/{first['id']}").json()["data"]["name"] == "one/with slash"
    by_id = app_client.get(f"{P}/exports/{first['id']}/download").json()["data"]
    assert by_id["download_url"].startswith("http")

    deleted = app_client.delete(f"{P}/exports/one%2Fwith%20slash", params={"dataset": "roads"})
    assert deleted.status_code == 200
    assert app_client.get(by_id["download_url"]).status_code == 404
    bulk = app_client.post(
        f"{P}/exports/bulk-delete", json={"export_ids": [second["id"], first["id"]]}
    ).json()["data"]
    assert bulk == {"succeeded": [second["id"]], "not_found": [first["id"]], "count": 1}


def test_a_job_left_processing_by_a_crash_is_built_again_when_the_server_restarts(
    make_client: Any, tmp_path: Path
) -> None:
    client = make_client()
    labelled_dataset(client, tmp_path)
    create_export(client, "roads", "again")
    create_export(client, "roads", "doomed")
    engine = client.app.state.store.engine
    crashed = {"status": "processing", "heartbeat_at": now() - timedelta(minutes=5)}
    again, doomed = t.exports.c.name == "again", t.exports.c.name == "doomed"
    with engine.begin() as conn:
        conn.execute(t.exports.update().where(again).values(**crashed, attempts=1, blob_key=None))
        conn.execute(t.exports.update().where(doomed).values(**crashed, attempts=3))

    restarted = make_client()
    rebuilt = wait_for_export(restarted, "roads", "again")
    assert rebuilt["status"] == "completed" and rebuilt["file_size"] > 0
    failed = wait_for_export(restarted, "roads", "doomed")
    assert failed["status"] == "failed"
    assert "server stopped while building" in failed["error_message"]
    with engine.begin() as conn:
        attempts = conn.execute(sa.select(t.exports.c.attempts).where(again)).scalar_one()
    assert attempts == 2

"""Dataset versions (issue 21, finding 7): frozen without copying bytes, listed, shown and
deleted; an export of a version is the same bytes however the live dataset changed, and no
blob a version names is removed (by a permanent delete or by gc)."""

from __future__ import annotations

import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pictograph.errors import NotFoundError
from pictograph.server.service import gc
from pictograph.server.store import tables as t
from tests.server.flows import P
from tests.server.labelling import box, create_export, download, labelled_dataset, save

V = f"{P}/datasets/roads/versions"
FORMATS = ("pictograph", "coco", "yolo", "imagefolder", "pascal_voc", "labelme", "cvat", "csv")


def _blob_keys(store: Any, table: sa.Table) -> set[str]:
    with store.read() as conn:
        return set(conn.scalars(sa.select(table.c.blob_key)))


def _export(client: Any, name: str, fmt: str, tmp_path: Path, **options: Any) -> bytes:
    create_export(client, "roads", name, format=fmt, include_images=True, **options)
    return download(client, "roads", name, tmp_path / f"{name}.zip").read_bytes()


def test_a_version_is_listed_shown_and_deleted_and_names_are_unique(
    app_client: Any, tmp_path: Path
) -> None:
    labelled_dataset(app_client, tmp_path)
    app_client.post(f"{P}/images/roads/a.png/split", json={"split": "val"})
    made = app_client.post(V, json={"name": "v1", "description": "first"})
    assert made.status_code == 201, made.text
    version = made.json()["data"]
    assert (version["name"], version["image_count"], version["annotation_count"]) == ("v1", 5, 5)
    assert [c["name"] for c in version["classes"]] == ["thing", "shape"]
    assert version["splits"] == {"val": 1, "none": 4}
    assert app_client.post(V, json={"name": "v1"}).status_code == 409
    assert app_client.post(V, json={"name": "a/b"}).status_code == 422
    app_client.post(V, json={"name": "v2"})

    listed = app_client.get(V).json()["data"]
    assert sorted(v["name"] for v in listed) == ["v1", "v2"]
    shown = app_client.get(f"{V}/v1").json()["data"]
    assert shown["id"] == version["id"] and shown["description"] == "first"
    assert app_client.get(f"{V}/{version['id']}").json()["data"]["name"] == "v1"

    assert app_client.delete(f"{V}/v1").status_code == 200
    assert app_client.get(f"{V}/v1").status_code == 404
    assert app_client.delete(f"{V}/v1").status_code == 404
    assert [v["name"] for v in app_client.get(V).json()["data"]] == ["v2"]
    assert app_client.get(f"{P}/datasets/nope/versions").status_code == 404


def test_a_version_export_is_the_same_bytes_after_deletes_renames_relabels_and_gc(
    app_client: Any, tmp_path: Path
) -> None:
    """The acceptance scenario: create a version, delete half the images permanently, rename a
    class, relabel an image; every format's export of the version is the same bytes, and gc
    keeps every blob it names."""
    made = labelled_dataset(app_client, tmp_path)
    store = app_client.app.state.store
    app_client.post(f"{P}/images/roads/sub/a.png/split", json={"split": "test"})
    assert app_client.post(V, json={"name": "v1"}).status_code == 201
    frozen = _blob_keys(store, t.version_images)
    assert frozen == _blob_keys(store, t.images)  # the same blobs: no bytes copied
    before = {fmt: _export(app_client, f"{fmt}-1", fmt, tmp_path, version="v1",
                           organize_by_split=fmt == "yolo") for fmt in FORMATS}  # fmt: skip

    doomed = [made[("/", "a.png")]["id"], made[("/sub", "c.png")]["id"]]
    body = {"dataset_name": "roads", "image_ids": doomed, "permanent": True}
    assert app_client.post(f"{P}/batch/images/delete", json=body).status_code == 200
    deleted = app_client.delete(f"{P}/images/roads/e.png", params={"permanent": "true"})
    assert deleted.status_code == 200, deleted.text
    renamed = {"dataset": "roads", "old_name": "thing", "new_name": "car"}
    assert app_client.post(f"{P}/annotations/rename-class", json=renamed).status_code == 200
    save(app_client, "roads", "b.jpg", [box("car", 1, 1, 5, 5)])
    report = gc.sweep(store, grace=timedelta(0))

    assert not frozen & set(report.orphan_blobs)
    for key in frozen:
        with store.blobs.open(key):
            pass
    for fmt in FORMATS:
        again = _export(app_client, f"{fmt}-2", fmt, tmp_path, version="v1",
                        organize_by_split=fmt == "yolo")  # fmt: skip
        assert again == before[fmt], fmt
    manifest = json.loads(zipfile.ZipFile(tmp_path / "pictograph-2.zip").read("manifest.json"))
    assert manifest["version"]["name"] == "v1" and manifest["missing_images"] == []
    assert manifest["image_count"] == 5 and manifest["classes"][0]["name"] == "thing"
    live = _export(app_client, "live", "pictograph", tmp_path)
    assert live != before["pictograph"]
    exported = app_client.get(f"{P}/exports/pictograph-2", params={"dataset": "roads"})
    assert exported.json()["data"]["version"] == "v1"


def test_deleting_a_version_releases_the_blobs_only_it_named(
    app_client: Any, tmp_path: Path
) -> None:
    made = labelled_dataset(app_client, tmp_path)
    store = app_client.app.state.store
    app_client.post(V, json={"name": "v1"})
    create_export(app_client, "roads", "of-v1", format="coco", version="v1")
    image_id = made[("/", "b.jpg")]["id"]
    with store.read() as conn:
        key = conn.scalar(sa.select(t.images.c.blob_key).where(t.images.c.id == image_id))
    app_client.delete(f"{P}/images/roads/b.jpg", params={"permanent": "true"})
    with store.blobs.open(key):  # the version still names it
        pass

    assert app_client.delete(f"{V}/v1").status_code == 200

    try:
        store.blobs.open(key).close()
        raise AssertionError("the blob only the deleted version named is still stored")
    except NotFoundError:
        pass
    assert app_client.get(f"{P}/exports/of-v1", params={"dataset": "roads"}).status_code == 404
    for path in ("a.png", "sub/c.png"):  # live images keep theirs
        assert app_client.get(f"{P}/images/roads/{path}").status_code == 200


def test_an_export_of_an_unknown_version_or_with_a_class_it_lacks_is_refused(
    app_client: Any, tmp_path: Path
) -> None:
    labelled_dataset(app_client, tmp_path)
    app_client.post(V, json={"name": "v1"})
    body = {"dataset_name": "roads", "name": "e", "version": "nope"}
    assert app_client.post(f"{P}/exports/", json=body).status_code == 404
    renamed = {"dataset": "roads", "old_name": "thing", "new_name": "car"}
    app_client.post(f"{P}/annotations/rename-class", json=renamed)
    body = {"dataset_name": "roads", "name": "e", "version": "v1", "class_filter": ["car"]}
    assert app_client.post(f"{P}/exports/", json=body).status_code == 422
    body["class_filter"] = ["thing"]
    assert app_client.post(f"{P}/exports/", json=body).status_code == 201

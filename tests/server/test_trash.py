"""The trash: deleting without ``permanent`` is recoverable, bytes and labels intact, until the
retention passes and gc removes rows and blobs; ``permanent`` deletes at once."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pictograph.server.service import gc
from pictograph.server.service.context import AppContext, new_id, now
from pictograph.server.store import tables as t
from pictograph.server.store.database import alembic_config, migrate, schema_revision
from tests.images import make_image
from tests.server.conftest import MakeClient
from tests.server.flows import P, create_dataset, stored_files, upload
from tests.server.labelling import box

IMAGES = 200


def _store(client: Any) -> AppContext:
    store: AppContext = client.app.state.store
    return store


def _blob_keys(store: AppContext, dataset_id: str) -> set[str]:
    with store.read() as conn:
        query = sa.select(t.images.c.blob_key).where(t.images.c.dataset_id == dataset_id)
        return set(conn.scalars(query))


def _labelled_images(client: Any, tmp_path: Path, name: str, count: int) -> dict[str, Any]:
    """``count`` real images in four folders, each with its own box; path -> (sha256, labels)."""
    create_dataset(client, name, classes=[{"name": "thing", "type": "bbox"}])
    made: dict[str, Any] = {}
    for index in range(count):
        folder = f"/part{index % 4}"
        path = make_image(tmp_path / "src" / name / f"{index:03d}.png", size=(20, 16), seed=index)
        upload(client, name, path, directory=folder)
        where = f"{folder.strip('/')}/{path.name}"
        labels = [box("thing", index % 10, 1, 5, 5)]
        answer = client.post(f"{P}/annotations/{name}/{where}", json={"annotations": labels})
        assert answer.status_code == 200, answer.text
        made[where] = hashlib.sha256(path.read_bytes()).hexdigest()
    return made


def _annotations(client: Any, name: str, where: str) -> Any:
    answer = client.get(f"{P}/annotations/{name}/{where}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_deleted_dataset_of_200_labelled_images_comes_back_whole_and_gc_removes_it_later(
    make_client: MakeClient, tmp_path: Path, blob_root: Path
) -> None:
    client = make_client()
    made = _labelled_images(client, tmp_path, "roads", IMAGES)
    labels = {where: _annotations(client, "roads", where) for where in made}
    dataset_id = client.get(f"{P}/datasets/roads").json()["data"]["id"]

    deleted = client.delete(f"{P}/datasets/roads")
    assert deleted.status_code == 200, deleted.text
    summary = deleted.json()["data"]
    assert summary["id"] == dataset_id and summary["deleted"] is True
    assert summary["trashed"] is True and summary["images_deleted"] == IMAGES
    assert summary["directories_deleted"] == 4 and summary["gcs_blobs_deleted"] == 0
    assert "restorable_until" in summary and summary["gcs_blobs_retained_for_forks"] == 0
    # Invisible everywhere, and its name is free at once.
    assert client.get(f"{P}/datasets/roads").status_code == 404
    assert client.get(f"{P}/datasets/{dataset_id}").status_code == 404
    assert client.get(f"{P}/images/", params={"dataset": "roads"}).status_code == 404
    assert client.get(f"{P}/images/roads/part0/000.png").status_code == 404
    assert client.get(f"{P}/datasets/").json()["data"] == []
    create_dataset(client, "roads")
    assert client.delete(f"{P}/datasets/roads", params={"permanent": "true"}).status_code == 200

    listed = client.get(f"{P}/trash").json()
    assert listed["pagination"]["total"] == 1
    [item] = listed["data"]
    assert (item["id"], item["kind"], item["name"]) == (dataset_id, "dataset", "roads")
    assert item["image_count"] == IMAGES and item["dataset_name"] == "roads"
    assert item["expires_at"] > item["deleted_at"]

    restored = client.post(f"{P}/trash/datasets/{dataset_id}/restore")
    assert restored.status_code == 200, restored.text
    assert restored.json()["data"]["name"] == "roads"
    assert restored.json()["data"]["image_count"] == IMAGES
    for where, digest in made.items():
        got = client.get(f"{P}/images/roads/{where}")
        assert got.status_code == 200, where
        assert hashlib.sha256(got.content).hexdigest() == digest, where
        assert _annotations(client, "roads", where) == labels[where], where
    assert client.get(f"{P}/trash").json()["data"] == []

    # Deleted again; once the retention has passed, gc removes the rows and their blobs.
    keys = _blob_keys(_store(client), dataset_id)
    assert len(keys) == IMAGES
    assert client.delete(f"{P}/datasets/roads").status_code == 200
    kept = gc.sweep(_store(client))
    assert kept.trashed_datasets == [] and _blob_keys(_store(client), dataset_id) == keys
    expired = make_client(trash_retention_days=0)
    report = gc.sweep(_store(expired))
    assert report.trashed_datasets == [dataset_id] and report.trash_blobs == IMAGES
    assert _blob_keys(_store(client), dataset_id) == set()
    with _store(client).read() as conn:
        assert (
            conn.execute(sa.select(t.datasets).where(t.datasets.c.id == dataset_id)).first() is None
        )
    assert not {path.name for path in stored_files(blob_root)} & keys
    assert client.get(f"{P}/trash").json()["data"] == []
    assert client.post(f"{P}/trash/datasets/{dataset_id}/restore").status_code == 404


def test_restoring_a_dataset_whose_name_was_taken_is_a_conflict_unless_renamed(
    app_client: Any,
) -> None:
    first = create_dataset(app_client, "cats")
    assert app_client.delete(f"{P}/datasets/cats").status_code == 200
    create_dataset(app_client, "cats")

    clash = app_client.post(f"{P}/trash/datasets/{first['id']}/restore")
    assert clash.status_code == 409, clash.text
    assert "new_name" in clash.json()["error"]["message"]
    taken = app_client.post(f"{P}/trash/datasets/{first['id']}/restore", json={"new_name": "cats"})
    assert taken.status_code == 409

    renamed = app_client.post(
        f"{P}/trash/datasets/{first['id']}/restore", json={"new_name": "old cats"}
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["data"]["id"] == first["id"]
    names = {d["name"] for d in app_client.get(f"{P}/datasets/").json()["data"]}
    assert names == {"cats", "old cats"}


def test_a_deleted_image_is_archived_in_the_trash_and_restored_with_its_labels(
    app_client: Any, tmp_path: Path
) -> None:
    create_dataset(app_client, "pets", classes=[{"name": "thing", "type": "bbox"}])
    path = make_image(tmp_path / "cat.png")
    image = upload(app_client, "pets", path, directory="/indoor")
    labels = [box("thing", 1, 2, 3, 4)]
    app_client.post(f"{P}/annotations/pets/indoor/cat.png", json={"annotations": labels})

    gone = app_client.delete(f"{P}/images/pets/indoor/cat.png")
    assert gone.status_code == 200
    assert gone.json()["data"] == {"id": image["id"], "deleted": True, "permanent": False}
    # The official meaning: archived, still readable by id, out of the default listing.
    by_id = app_client.get(f"{P}/images/{image['id']}/metadata").json()["data"]
    assert by_id["is_archived"] is True
    assert app_client.get(f"{P}/images/", params={"dataset": "pets"}).json()["data"] == []
    [item] = app_client.get(f"{P}/trash").json()["data"]
    assert (item["kind"], item["name"], item["dataset_name"]) == (
        "image",
        "/indoor/cat.png",
        "pets",
    )
    assert item["image_count"] is None

    back = app_client.post(f"{P}/trash/images/{image['id']}/restore")
    assert back.status_code == 200, back.text
    assert back.json()["data"]["is_archived"] is False
    assert app_client.get(f"{P}/trash").json()["data"] == []
    got = app_client.get(f"{P}/images/pets/indoor/cat.png")
    assert got.content == path.read_bytes()
    saved = app_client.get(f"{P}/annotations/pets/indoor/cat.png").json()
    assert [a["bounding_box"] for a in saved["annotations"]] == [labels[0]["bounding_box"]]
    assert app_client.post(f"{P}/trash/images/{image['id']}/restore").status_code == 404


def test_a_deliberate_archive_is_not_in_the_trash_and_never_expires(
    make_client: MakeClient, tmp_path: Path
) -> None:
    client = make_client(trash_retention_days=0)
    create_dataset(client, "pets")
    image = upload(client, "pets", make_image(tmp_path / "dog.png"))
    body = {"dataset_name": "pets", "image_ids": [image["id"]]}
    answer = client.post(f"{P}/batch/images/delete", json=body)
    assert answer.status_code == 200, answer.text
    assert client.get(f"{P}/trash").json()["data"] == []
    assert gc.sweep(_store(client)).trashed_images == []
    assert client.get(f"{P}/images/{image['id']}/metadata").json()["data"]["is_archived"] is True


def test_an_image_past_the_retention_goes_with_its_blob_and_one_unarchived_stays(
    make_client: MakeClient, tmp_path: Path, blob_root: Path
) -> None:
    client = make_client()
    create_dataset(client, "pets")
    old = upload(client, "pets", make_image(tmp_path / "old.png"))
    back = upload(client, "pets", make_image(tmp_path / "back.png"))
    for name in ("old.png", "back.png"):
        assert client.delete(f"{P}/images/pets/{name}").status_code == 200
    # Unarchived through the batch route: out of the trash too.
    body = {"dataset_name": "pets", "image_ids": [back["id"]], "updates": {"is_archived": False}}
    assert client.patch(f"{P}/batch/images/update", json=body).status_code == 200
    store = _store(client)
    with store.read() as conn:
        old_key = conn.scalar(sa.select(t.images.c.blob_key).where(t.images.c.id == old["id"]))
    with store.write() as conn:  # deleted 31 days ago
        stamp = now() - timedelta(days=31)
        conn.execute(t.images.update().where(t.images.c.id == old["id"]).values(deleted_at=stamp))

    report = gc.sweep(store)

    assert report.trashed_images == [old["id"]] and report.trash_blobs == 1
    assert client.get(f"{P}/images/{old['id']}/metadata").status_code == 404
    assert old_key not in {path.name for path in stored_files(blob_root)}
    assert client.get(f"{P}/images/pets/back.png").status_code == 200


def test_permanent_deletion_is_immediate_and_purging_empties_the_trash_now(
    app_client: Any, tmp_path: Path, blob_root: Path
) -> None:
    create_dataset(app_client, "now")
    upload(app_client, "now", make_image(tmp_path / "a.png"))
    gone = app_client.delete(f"{P}/datasets/now", params={"permanent": "true"})
    assert gone.status_code == 200
    assert gone.json()["data"]["gcs_blobs_deleted"] == 1 and "trashed" not in gone.json()["data"]
    assert app_client.get(f"{P}/trash").json()["data"] == []
    assert stored_files(blob_root) == []

    later = create_dataset(app_client, "later")
    image = upload(app_client, "later", make_image(tmp_path / "b.png"))
    upload(app_client, "later", make_image(tmp_path / "c.png"))
    app_client.delete(f"{P}/images/later/b.png")
    purged = app_client.delete(f"{P}/trash/images/{image['id']}")
    assert purged.status_code == 200, purged.text
    assert len(stored_files(blob_root)) == 1
    app_client.delete(f"{P}/datasets/later")
    summary = app_client.delete(f"{P}/trash/datasets/{later['id']}").json()["data"]
    assert summary["images_deleted"] == 1 and summary["gcs_blobs_deleted"] == 1
    assert stored_files(blob_root) == []
    assert app_client.get(f"{P}/trash").json()["data"] == []
    assert app_client.delete(f"{P}/trash/datasets/{later['id']}").status_code == 404


def test_the_trash_is_paged_and_scoped_to_live_datasets(app_client: Any, tmp_path: Path) -> None:
    create_dataset(app_client, "box")
    for index in range(3):
        upload(app_client, "box", make_image(tmp_path / f"{index}.png"))
        app_client.delete(f"{P}/images/box/{index}.png")
    first = app_client.get(f"{P}/trash", params={"limit": 2}).json()
    assert len(first["data"]) == 2 and first["pagination"]["has_more"] is True
    rest = app_client.get(f"{P}/trash", params={"limit": 2, "offset": 2}).json()
    assert [i["name"] for i in first["data"] + rest["data"]] == ["/2.png", "/1.png", "/0.png"]
    # A trashed dataset is one entry: its trashed images are not listed apart.
    app_client.delete(f"{P}/datasets/box")
    assert [i["kind"] for i in app_client.get(f"{P}/trash").json()["data"]] == ["dataset"]


def _insert_dataset(conn: sa.Connection, name: str, deleted: bool = False) -> None:
    stamp = now()
    values = {"id": new_id(), "organization_id": "o", "name": name, "annotation_types": [],
              "classes": [], "is_public": False, "is_archived": False, "created_at": stamp,
              "updated_at": stamp, "deleted_at": stamp if deleted else None}  # fmt: skip
    conn.execute(t.datasets.insert().values(**values))


def test_the_migration_makes_names_unique_among_live_datasets_and_goes_back(
    database_url: str,
) -> None:
    from alembic import command

    engine = sa.create_engine(database_url)
    migrate(engine, "0005_scale")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO organizations (id, name, created_at) "
                             "VALUES ('o', 'acme', CURRENT_TIMESTAMP)"))  # fmt: skip
    migrate(engine)
    with engine.begin() as conn:
        _insert_dataset(conn, "cats", deleted=True)
        _insert_dataset(conn, "cats")
        _insert_dataset(conn, "cats", deleted=True)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        _insert_dataset(conn, "cats")

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005_scale")
    assert schema_revision(engine) == "0005_scale"
    with engine.connect() as conn:
        names = conn.execute(sa.text("SELECT name FROM datasets")).scalars().all()
    assert names == ["cats"]  # the trashed ones could not survive the old constraint
    engine.dispose()

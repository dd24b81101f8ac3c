"""Dataset versions: a dataset's images, labels, classes and splits frozen under a name.

A version copies the rows, never the bytes: its images (``version_images``) name the same blobs
the live images did, so making one costs one INSERT ... SELECT. Later edits, deletions and class
renames of the live dataset leave it as it was; ``blob_owners`` keeps a blob while a version
names it (permanent image deletes and ``gc`` alike). Exports can be built from a version
(``ExportRequest.version``), and the same version gives the same archive, byte for byte.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pictograph.errors import ConflictError, NotFoundError, ValidationError
from pictograph.server.service import bucket_check
from pictograph.server.service.blob_owners import release
from pictograph.server.service.context import AppContext, Page, aware, new_id, now, row_dict
from pictograph.server.service.datasets import resolve
from pictograph.server.service.paths import canonical_uuid, is_uuid
from pictograph.server.store import tables as t

_V = t.dataset_versions
_VI = t.version_images
_I = t.images
#: The image columns a version keeps (besides the image id, kept as ``image_id``).
FROZEN = ("directory_path", "filename", "file_size", "width", "height", "content_type", "sha256",
          "blob_key", "status", "split", "tags", "annotations", "annotation_count")  # fmt: skip


def find_version(conn: sa.Connection, dataset: dict[str, Any], ref: str) -> dict[str, Any]:
    """The version of ``dataset`` named ``ref`` (or with id ``ref``); ``NotFoundError``."""
    query = sa.select(_V).where(_V.c.dataset_id == dataset["id"])
    named = _V.c.name == ref
    if is_uuid(ref):
        named = sa.or_(named, _V.c.id == canonical_uuid(ref))
    row = conn.execute(query.where(named)).first()
    if row is None:
        raise NotFoundError(f"version {ref!r} not found in dataset {dataset['name']!r}")
    return row_dict(row)


def create_version(
    store: AppContext, organization_id: str, dataset_ref: str, name: str, description: str | None
) -> dict[str, Any]:
    """Freeze the dataset's live (not archived) images as version ``name``; its wire form.

    ``ValidationError`` for a bad name, ``ConflictError`` when the dataset has a version of that
    name, ``NotFoundError`` for an unknown dataset.
    """
    if not name.strip() or len(name) > 100 or "/" in name:
        raise ValidationError("a version name has 1 to 100 characters, none of them '/'")
    with store.read() as conn:
        dataset_id = resolve(conn, organization_id, dataset_ref)["id"]
    # A version keeps its images' bytes whatever becomes of them: freeze only bytes checked whole.
    bucket_check.check_dataset(store, dataset_id)
    with store.write() as conn:
        dataset = resolve(conn, organization_id, dataset_ref)
        conn.execute(sa.select(t.datasets.c.id).where(t.datasets.c.id == dataset["id"])
                     .with_for_update())  # fmt: skip
        dataset = resolve(conn, organization_id, dataset["id"])
        taken = sa.select(_V.c.id).where(_V.c.dataset_id == dataset["id"], _V.c.name == name)
        if conn.execute(taken).first() is not None:
            raise ConflictError(
                f"a version called {name!r} already exists in dataset {dataset['name']!r}"
            )
        version_id = new_id()
        row = {"id": version_id, "organization_id": organization_id,
               "dataset_id": dataset["id"], "name": name, "description": description,
               "dataset_name": dataset["name"], "classes": list(dataset["classes"] or []),
               "annotation_types": list(dataset["annotation_types"] or []),
               "image_count": 0, "annotation_count": 0, "created_at": now()}  # fmt: skip
        conn.execute(_V.insert().values(**row))
        live = (
            sa.select(sa.literal(version_id, sa.String(36)), _I.c.id, *(_I.c[c] for c in FROZEN))
            .where(_I.c.dataset_id == dataset["id"], _I.c.is_archived == sa.false())
            # PostgreSQL: a permanent delete of one of these images waits for this version, so
            # it sees the version's row and keeps the blob (``blob_owners.release``).
            .with_for_update(read=True)
        )
        conn.execute(_VI.insert().from_select(["version_id", "image_id", *FROZEN], live))
        totals = sa.select(
            sa.func.count(), sa.func.coalesce(sa.func.sum(_VI.c.annotation_count), 0)
        )
        images, annotations = conn.execute(totals.where(_VI.c.version_id == version_id)).one()
        counts = {"image_count": int(images), "annotation_count": int(annotations)}
        conn.execute(_V.update().where(_V.c.id == version_id).values(**counts))
        row |= counts
        splits = _splits(conn, version_id)
    return to_wire(row, splits)


def _splits(conn: sa.Connection, version_id: str) -> dict[str, int]:
    query = (
        sa.select(_VI.c.split, sa.func.count())
        .where(_VI.c.version_id == version_id)
        .group_by(_VI.c.split)
    )
    return {split or "none": int(count) for split, count in conn.execute(query)}


def to_wire(row: dict[str, Any], splits: dict[str, int] | None = None) -> dict[str, Any]:
    """The ``DatasetVersion`` object the SDK parses (``splits`` only when read one by one)."""
    return {
        "id": row["id"],
        "dataset_id": row["dataset_id"],
        "dataset_name": row["dataset_name"],
        "name": row["name"],
        "description": row["description"],
        "image_count": row["image_count"],
        "annotation_count": row["annotation_count"],
        "classes": row["classes"],
        "annotation_types": row["annotation_types"],
        "splits": splits,
        "created_at": aware(row["created_at"]),
    }


def list_versions(
    store: AppContext, organization_id: str, dataset_ref: str
) -> list[dict[str, Any]]:
    """The dataset's versions, newest first."""
    with store.read() as conn:
        dataset = resolve(conn, organization_id, dataset_ref)
        query = (
            sa.select(_V)
            .where(_V.c.dataset_id == dataset["id"])
            .order_by(_V.c.created_at.desc(), _V.c.name)
        )
        return [to_wire(row_dict(row)) for row in conn.execute(query)]


def get_version(
    store: AppContext, organization_id: str, dataset_ref: str, ref: str
) -> dict[str, Any]:
    """One version, with its image count per split."""
    with store.read() as conn:
        row = find_version(conn, resolve(conn, organization_id, dataset_ref), ref)
        return to_wire(row, _splits(conn, row["id"]))


def version_images(
    store: AppContext,
    organization_id: str,
    dataset_ref: str,
    ref: str,
    *,
    limit: int,
    offset: int,
) -> tuple[dict[str, Any], Page]:
    """The version and a page of its frozen images in path order, each with ``live`` saying
    whether the live dataset still holds that image (for a thumbnail to show)."""
    with store.read() as conn:
        row = find_version(conn, resolve(conn, organization_id, dataset_ref), ref)
        where = _VI.c.version_id == row["id"]
        total = conn.execute(sa.select(sa.func.count()).where(where)).scalar_one()
        live = sa.exists().where(_I.c.id == _VI.c.image_id, _I.c.is_archived == sa.false())
        query = (
            sa.select(_VI, live.label("live"))
            .where(where)
            .order_by(_VI.c.directory_path, _VI.c.filename)
            .limit(limit)
            .offset(offset)
        )
        items = [row_dict(found) for found in conn.execute(query)]
        version = to_wire(row, _splits(conn, row["id"]))
    return version, Page(items=items, total=int(total), limit=limit, offset=offset)


def delete_version(store: AppContext, organization_id: str, dataset_ref: str, ref: str) -> None:
    """Delete the version, its exports and their archives; the blobs of its images go unless
    the live dataset (or another version) still names them."""
    _E = t.exports
    with store.write() as conn:
        row = find_version(conn, resolve(conn, organization_id, dataset_ref), ref)
        archives = list(conn.scalars(
            sa.select(_E.c.blob_key).where(_E.c.version_id == row["id"], _E.c.blob_key.is_not(None))
        ))  # fmt: skip
        keys = list(conn.scalars(sa.select(_VI.c.blob_key).where(_VI.c.version_id == row["id"])))
        conn.execute(_E.delete().where(_E.c.version_id == row["id"]))
        conn.execute(_VI.delete().where(_VI.c.version_id == row["id"]))
        conn.execute(_V.delete().where(_V.c.id == row["id"]))
    for key in archives:
        store.blobs.delete(key)
    release(store, keys)

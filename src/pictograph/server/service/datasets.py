"""Datasets: resolution by name or id, create, read with counters, update, archive, delete.

A dataset in the trash (``deleted_at`` set) is not here: ``resolve`` and the lists see live
datasets only, and its name is free. ``service/trash.py`` lists, restores and purges it."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from pictograph.errors import ConflictError, NotFoundError
from pictograph.models import Dataset, DatasetClass
from pictograph.server.service import classes as cls
from pictograph.server.service.blob_owners import REFERRERS
from pictograph.server.service.context import AppContext, Page, clamp, new_id, now, row_dict
from pictograph.server.service.paths import canonical_uuid, is_uuid, validate_dataset_name
from pictograph.server.service.views import to_dataset
from pictograph.server.store import tables as t

_D = t.datasets
_I = t.images
_Q = t.quarantined_images

#: The clause of a live dataset (not in the trash): every query of datasets a caller sees has it.
LIVE = _D.c.deleted_at.is_(None)


def resolve(conn: sa.Connection, organization_id: str, ref: str) -> dict[str, Any]:
    """The dataset row ``ref`` names in the organisation: a UUID id first, else an exact name.

    Raises ``NotFoundError`` when none matches (including datasets of other organisations).
    """
    in_org = sa.and_(_D.c.organization_id == organization_id, LIVE)
    if is_uuid(ref):
        row = conn.execute(sa.select(_D).where(in_org, _D.c.id == canonical_uuid(ref))).first()
        if row is not None:
            return row_dict(row)
    name = unicodedata.normalize("NFC", ref)  # names are stored in NFC
    row = conn.execute(sa.select(_D).where(in_org, _D.c.name == name)).first()
    if row is None:
        raise NotFoundError(f"dataset {ref!r} not found")
    return row_dict(row)


def counts(conn: sa.Connection, dataset_ids: list[str]) -> dict[str, dict[str, int]]:
    """Live counters per dataset id, computed in one grouped query."""
    if not dataset_ids:
        return {}
    live = _I.c.is_archived == sa.false()
    query = (
        sa.select(
            _I.c.dataset_id,
            sa.func.sum(sa.case((live, 1), else_=0)).label("image_count"),
            sa.func.sum(sa.case((live, 0), else_=1)).label("archived_image_count"),
            sa.func.sum(sa.case((sa.and_(live, _I.c.status == "complete"), 1), else_=0)).label(
                "completed_image_count"
            ),
            sa.func.sum(sa.case((live, _I.c.file_size), else_=0)).label("total_size"),
        )
        .where(_I.c.dataset_id.in_(dataset_ids))
        .group_by(_I.c.dataset_id)
    )
    return {row.dataset_id: dict(row._mapping) for row in conn.execute(query)}


def view(conn: sa.Connection, row: Mapping[str, Any]) -> Dataset:
    return to_dataset(row, counts(conn, [row["id"]]).get(row["id"]))


def list_datasets(
    store: AppContext, organization_id: str, *, limit: int, offset: int, archived: bool
) -> Page:
    """A page of the organisation's datasets, newest first; ``archived`` lists archived ones."""
    limit, offset = clamp(limit, offset, 1000)
    where = sa.and_(_D.c.organization_id == organization_id, _D.c.is_archived == archived, LIVE)
    query = sa.select(_D).where(where).order_by(_D.c.created_at.desc(), _D.c.id.desc())
    with store.read() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(_D).where(where)).scalar_one()
        rows = [row_dict(r) for r in conn.execute(query.limit(limit).offset(offset))]
        numbers = counts(conn, [row["id"] for row in rows])
    items = [to_dataset(row, numbers.get(row["id"])) for row in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


def get_dataset(store: AppContext, organization_id: str, ref: str) -> Dataset:
    """The dataset ``ref`` names; ``NotFoundError`` when none."""
    with store.read() as conn:
        return view(conn, resolve(conn, organization_id, ref))


def create_dataset(
    store: AppContext,
    organization_id: str,
    *,
    name: str,
    description: str | None = None,
    readme: str | None = None,
    annotation_types: list[str] | None = None,
    classes: list[DatasetClass] | None = None,
) -> Dataset:
    """Create a dataset; ``ConflictError`` for a taken name, ``ValidationError`` on bad input."""
    name = validate_dataset_name(name)
    stamp = now()
    values = {
        "id": new_id(),
        "organization_id": organization_id,
        "name": name,
        "description": description,
        "readme": readme,
        "annotation_types": cls.check_annotation_types(annotation_types or ["bbox"]),
        "classes": cls.with_colours(cls.stored_classes(classes or [])),
        "is_public": False,
        "is_archived": False,
        "archived_at": None,
        "created_at": stamp,
        "updated_at": stamp,
    }
    try:
        with store.write() as conn:
            ensure_name_free(conn, organization_id, name)
            conn.execute(_D.insert().values(**values))
            return view(conn, values)
    except sa.exc.IntegrityError:
        raise name_taken(name) from None


def name_taken(name: str) -> ConflictError:
    return ConflictError(f"dataset {name!r} already exists", details={"name": name})


def ensure_name_free(conn: sa.Connection, organization_id: str, name: str) -> None:
    query = sa.select(_D.c.id).where(
        _D.c.organization_id == organization_id, _D.c.name == name, LIVE
    )
    if conn.execute(query).first() is not None:
        raise name_taken(name)


@dataclass(frozen=True)
class DatasetChanges:
    """The fields an update sets; ``None`` leaves a field as it is."""

    new_name: str | None = None
    readme: str | None = None
    description: str | None = None
    annotation_types: list[str] | None = None
    classes: list[DatasetClass] | None = None
    classes_base: list[DatasetClass] | None = None


def update_dataset(
    store: AppContext, organization_id: str, ref: str, changes: DatasetChanges
) -> Dataset:
    """Apply ``changes``; ``ConflictError`` when ``new_name`` is taken, ``NotFoundError``."""
    try:
        with store.write() as conn:
            row = resolve(conn, organization_id, ref)
            values = _changed_values(conn, row, changes)
            values["updated_at"] = now()
            conn.execute(_D.update().where(_D.c.id == row["id"]).values(**values))
            return view(conn, {**row, **values})
    except sa.exc.IntegrityError:
        raise name_taken(changes.new_name or ref) from None


def _changed_values(
    conn: sa.Connection, row: Mapping[str, Any], changes: DatasetChanges
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    new_name = None if changes.new_name is None else validate_dataset_name(changes.new_name)
    if new_name is not None and new_name != row["name"]:
        ensure_name_free(conn, row["organization_id"], new_name)
        values["name"] = new_name
    if changes.readme is not None:
        values["readme"] = changes.readme
    if changes.description is not None:
        values["description"] = changes.description
    if changes.annotation_types is not None:
        values["annotation_types"] = cls.check_annotation_types(changes.annotation_types)
    if changes.classes is not None:
        new = cls.stored_classes(changes.classes)
        if changes.classes_base is not None:
            base = cls.stored_classes(changes.classes_base)
            new = cls.merge_classes(list(row["classes"] or []), base, new)
        values["classes"] = cls.with_colours(new)
    return values


def set_archived(store: AppContext, organization_id: str, ref: str, archived: bool) -> Dataset:
    """Archive or unarchive (idempotent). ``NotFoundError`` when the dataset does not exist."""
    with store.write() as conn:
        row = resolve(conn, organization_id, ref)
        if bool(row["is_archived"]) != archived:
            stamp = now()
            values = {"is_archived": archived, "archived_at": stamp if archived else None}
            values["updated_at"] = stamp
            conn.execute(_D.update().where(_D.c.id == row["id"]).values(**values))
            row = {**row, **values}
        return view(conn, row)


def delete_dataset(
    store: AppContext,
    organization_id: str,
    ref: str,
    *,
    permanent: bool = False,
    deleted_by: str | None = None,
) -> dict[str, Any]:
    """Move the dataset to the trash (its name is free at once; restorable until the retention
    passes) or, with ``permanent``, remove it, its images, folders and bytes. A summary of what
    went either way; ``NotFoundError`` for no live dataset."""
    if permanent:
        with store.read() as conn:
            row = resolve(conn, organization_id, ref)
        return remove_dataset(store, row)
    stamp = now()
    with store.write() as conn:
        row = resolve(conn, organization_id, ref)
        values = {"deleted_at": stamp, "deleted_by": deleted_by, "updated_at": stamp}
        conn.execute(_D.update().where(_D.c.id == row["id"]).values(**values))
        numbers = counts(conn, [row["id"]]).get(row["id"]) or {}
        folders = conn.execute(
            sa.select(sa.func.count())
            .select_from(t.directories)
            .where(t.directories.c.dataset_id == row["id"])
        ).scalar_one()
    images = int(numbers.get("image_count") or 0) + int(numbers.get("archived_image_count") or 0)
    return {
        **_summary(row, images=images, folders=folders, blobs=0),
        "trashed": True,
        "restorable_until": (stamp + retention_of(store)).isoformat(),
    }


def retention_of(store: AppContext) -> timedelta:
    """How long the trash keeps what it holds (``trash_retention_days``)."""
    return timedelta(days=store.settings.trash_retention_days)


def remove_dataset(
    store: AppContext, row: Mapping[str, Any], *, only_if: sa.ColumnElement[bool] | None = None
) -> dict[str, Any]:
    """Permanently remove the dataset of ``row`` (live or trashed), its images, folders, pending,
    refused and quarantined uploads, then the blobs no other row refers to; the summary of what
    went. The one permanent deletion of a dataset: ``permanent``, purging from the trash and gc
    use it.

    With ``only_if``, only while the dataset's row still matches it (``NotFoundError`` if not:
    say, restored from the trash meanwhile)."""
    dataset_id = row["id"]
    with store.write() as conn:
        # The dataset's row is locked before any of its children, as a registration locks it
        # (``registration._still_live``) before adding images and folders: one order, so on
        # PostgreSQL the two wait for each other instead of deadlocking.
        still = sa.select(_D.c.id).where(_D.c.id == dataset_id, *_optional(only_if))
        if conn.execute(still.with_for_update()).first() is None and only_if is not None:
            raise NotFoundError(f"dataset {row['name']!r} is no longer there to remove")
        keys = {
            *conn.execute(sa.select(_I.c.blob_key).where(_I.c.dataset_id == dataset_id)).scalars(),
            *conn.execute(
                sa.select(t.pending_uploads.c.blob_key).where(
                    t.pending_uploads.c.dataset_id == dataset_id
                )
            ).scalars(),
            *conn.execute(sa.select(_Q.c.blob_key).where(_Q.c.dataset_id == dataset_id)).scalars(),
        }
        images = conn.execute(_I.delete().where(_I.c.dataset_id == dataset_id)).rowcount
        folders = conn.execute(
            t.directories.delete().where(t.directories.c.dataset_id == dataset_id)
        ).rowcount
        conn.execute(t.pending_uploads.delete().where(t.pending_uploads.c.dataset_id == dataset_id))
        # Its foreign key cascades too; deleted here by name, as the pending uploads are.
        conn.execute(t.refused_uploads.delete().where(t.refused_uploads.c.dataset_id == dataset_id))
        conn.execute(_Q.delete().where(_Q.c.dataset_id == dataset_id))
        conn.execute(_D.delete().where(_D.c.id == dataset_id))
        unused = unreferenced_blobs(conn, keys)
    for key in unused:
        store.blobs.delete(key)
    return _summary(row, images=images, folders=folders, blobs=len(unused))


def _optional(condition: sa.ColumnElement[bool] | None) -> list[sa.ColumnElement[bool]]:
    return [] if condition is None else [condition]


def unreferenced_blobs(conn: sa.Connection, keys: set[str]) -> list[str]:
    """The blob keys of ``keys`` no row of any table refers to (any more): images, pending
    uploads, exports, dataset versions (``blob_owners.REFERRERS``)."""
    used: set[str] = set()
    listed = sorted(keys)
    for start in range(0, len(listed), 500):
        batch = listed[start : start + 500]
        named = [
            sa.select(table.c.blob_key).where(table.c.blob_key.in_(batch)) for table in REFERRERS
        ]
        used.update(conn.scalars(sa.union_all(*named)))
    return [key for key in listed if key not in used]


def _summary(row: Mapping[str, Any], *, images: int, folders: int, blobs: int) -> dict[str, Any]:
    """The documented answer of a dataset deletion."""
    return {
        "id": row["id"],
        "name": row["name"],
        "deleted": True,
        "images_deleted": images,
        "directories_deleted": folders,
        "gcs_blobs_deleted": blobs,
        "gcs_blobs_retained_for_forks": 0,
    }

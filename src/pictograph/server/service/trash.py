"""The trash: datasets and images deleted without ``permanent``, restorable until the retention
(``trash_retention_days``) passes, then removed by gc.

A trashed dataset keeps its rows and bytes but is invisible everywhere a live one is seen
(``datasets.LIVE``) and its name is free; restoring it needs a free name (or ``new_name``). A
trashed image is archived (readable by id, as an archived image always is) with ``deleted_at``
set; restoring it clears both. Permanent removal is ``datasets.remove_dataset`` and
``images.drop_images``, the same code the ``permanent`` routes run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from pictograph.errors import ConflictError, NotFoundError
from pictograph.models import Dataset, Image, TrashItem
from pictograph.server.service import datasets, images
from pictograph.server.service.context import AppContext, Links, Page, aware, clamp, now, row_dict
from pictograph.server.service.paths import canonical_uuid, is_uuid, join, validate_dataset_name
from pictograph.server.service.views import to_image
from pictograph.server.store import tables as t

_D = t.datasets
_I = t.images
_TRASHED_DATASET = _D.c.deleted_at.is_not(None)
_TRASHED_IMAGE = sa.and_(_I.c.deleted_at.is_not(None), _I.c.is_archived == sa.true())


def list_trash(store: AppContext, organization_id: str, *, limit: int, offset: int) -> Page:
    """A page of the organisation's trash (datasets, and images of live datasets), most
    recently deleted first."""
    limit, offset = clamp(limit, offset, 1000)
    text = sa.String()
    trashed_datasets = sa.select(
        _D.c.id,
        sa.literal("dataset", text).label("kind"),
        sa.cast(sa.null(), text).label("directory_path"),
        sa.cast(sa.null(), text).label("filename"),
        _D.c.id.label("dataset_id"),
        _D.c.name.label("dataset_name"),
        _D.c.deleted_at,
        _D.c.deleted_by,
    ).where(_D.c.organization_id == organization_id, _TRASHED_DATASET)
    trashed_images = (
        sa.select(
            _I.c.id,
            sa.literal("image", text).label("kind"),
            _I.c.directory_path,
            _I.c.filename,
            _I.c.dataset_id,
            _D.c.name.label("dataset_name"),
            _I.c.deleted_at,
            sa.cast(sa.null(), text).label("deleted_by"),
        )
        .join(_D, _D.c.id == _I.c.dataset_id)
        .where(_D.c.organization_id == organization_id, datasets.LIVE, _TRASHED_IMAGE)
    )
    union = sa.union_all(trashed_datasets, trashed_images).subquery()
    query = (
        sa.select(union)
        .order_by(union.c.deleted_at.desc(), union.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    kept_for = datasets.retention_of(store)
    with store.read() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(union)).scalar_one()
        rows = [dict(row._mapping) for row in conn.execute(query)]
        ids = [row["id"] for row in rows if row["kind"] == "dataset"]
        numbers = datasets.counts(conn, ids)
    items = [_item(row, kept_for, numbers.get(row["id"])) for row in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


def _item(row: dict[str, Any], kept_for: timedelta, numbers: dict[str, int] | None) -> TrashItem:
    deleted_at = aware(row["deleted_at"])
    assert deleted_at is not None
    is_dataset = row["kind"] == "dataset"
    return TrashItem(
        id=row["id"],
        kind=row["kind"],
        name=row["dataset_name"] if is_dataset else join(row["directory_path"], row["filename"]),
        dataset_id=row["dataset_id"],
        dataset_name=row["dataset_name"],
        deleted_at=deleted_at,
        expires_at=deleted_at + kept_for,
        deleted_by=row["deleted_by"],
        image_count=_image_total(numbers) if is_dataset else None,
    )


def _image_total(numbers: dict[str, int] | None) -> int:
    numbers = numbers or {}
    return int(numbers.get("image_count") or 0) + int(numbers.get("archived_image_count") or 0)


def _trashed_dataset(conn: sa.Connection, organization_id: str, dataset_id: str) -> dict[str, Any]:
    if is_uuid(dataset_id):
        query = sa.select(_D).where(
            _D.c.id == canonical_uuid(dataset_id),
            _D.c.organization_id == organization_id,
            _TRASHED_DATASET,
        )
        row = conn.execute(query).first()
        if row is not None:
            return row_dict(row)
    raise NotFoundError(f"no dataset {dataset_id!r} in the trash")


def _trashed_image(conn: sa.Connection, organization_id: str, image_id: str) -> dict[str, Any]:
    if is_uuid(image_id):
        query = (
            sa.select(_I)
            .join(_D, _D.c.id == _I.c.dataset_id)
            .where(
                _I.c.id == canonical_uuid(image_id),
                _D.c.organization_id == organization_id,
                datasets.LIVE,
                _TRASHED_IMAGE,
            )
        )
        row = conn.execute(query).first()
        if row is not None:
            return row_dict(row)
    raise NotFoundError(f"no image {image_id!r} in the trash")


def restore_dataset(
    store: AppContext, organization_id: str, dataset_id: str, new_name: str | None = None
) -> Dataset:
    """Bring a trashed dataset back with its images, folders, labels and bytes, under its name
    or ``new_name``. ``ConflictError`` when a live dataset has that name, ``NotFoundError``
    when the trash has no such dataset."""
    try:
        with store.write() as conn:
            row = _trashed_dataset(conn, organization_id, dataset_id)
            name = row["name"] if new_name is None else validate_dataset_name(new_name)
            _ensure_restorable_name(conn, organization_id, name, given=new_name is not None)
            values = {"name": name, "deleted_at": None, "deleted_by": None, "updated_at": now()}
            conn.execute(_D.update().where(_D.c.id == row["id"]).values(**values))
            return datasets.view(conn, {**row, **values})
    except sa.exc.IntegrityError:
        raise datasets.name_taken(new_name or dataset_id) from None


def _ensure_restorable_name(
    conn: sa.Connection, organization_id: str, name: str, *, given: bool
) -> None:
    try:
        datasets.ensure_name_free(conn, organization_id, name)
    except ConflictError:
        if given:
            raise
        raise ConflictError(
            f"dataset {name!r} already exists: restore this one under another name (new_name)",
            details={"name": name},
        ) from None


def restore_image(store: AppContext, organization_id: str, image_id: str, links: Links) -> Image:
    """Bring a trashed image back (no longer archived nor in the trash). ``ConflictError`` when
    a live image has its path, ``NotFoundError`` when the trash has no such image."""
    with store.write() as conn:
        row = _trashed_image(conn, organization_id, image_id)
        occupied = conn.execute(
            sa.select(_I.c.id).where(
                _I.c.dataset_id == row["dataset_id"],
                _I.c.directory_path == row["directory_path"],
                _I.c.filename == row["filename"],
                _I.c.is_archived == sa.false(),
                _I.c.id != row["id"],
            )
        ).first()
        if occupied is not None:
            path = join(row["directory_path"], row["filename"])
            raise ConflictError(
                f"image {path} is taken by another image: move or delete it, then restore",
                details={"path": path, "image_id": occupied.id},
            )
        values = {"is_archived": False, "deleted_at": None, "updated_at": now()}
        conn.execute(_I.update().where(_I.c.id == row["id"]).values(**values))
    return to_image({**row, **values}, links)


def purge_dataset(store: AppContext, organization_id: str, dataset_id: str) -> dict[str, Any]:
    """Remove a trashed dataset for good now; the deletion summary."""
    with store.read() as conn:
        row = _trashed_dataset(conn, organization_id, dataset_id)
    return datasets.remove_dataset(store, row, only_if=_TRASHED_DATASET)


def purge_image(store: AppContext, organization_id: str, image_id: str) -> dict[str, Any]:
    """Remove a trashed image and its bytes for good now."""
    with store.write() as conn:
        row = _trashed_image(conn, organization_id, image_id)
        unused = images.drop_images(conn, [row])
    images.delete_blobs(store, unused)
    return {"id": row["id"], "deleted": True, "permanent": True}


@dataclass
class Expired:
    """What emptying the trash of expired things removed (or, dry, would remove)."""

    datasets: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    blobs: int = 0


def purge_expired(store: AppContext, *, dry_run: bool = False) -> Expired:
    """Remove every dataset and image (all organisations) in the trash for longer than the
    retention, with the blobs no other row refers to."""
    cutoff: datetime = now() - datasets.retention_of(store)
    expired = Expired()
    with store.read() as conn:
        old_datasets = [
            row_dict(row)
            for row in conn.execute(sa.select(_D).where(_TRASHED_DATASET, _D.c.deleted_at < cutoff))
        ]
        old_images = [
            row_dict(row)
            for row in conn.execute(sa.select(_I).where(_TRASHED_IMAGE, _I.c.deleted_at < cutoff))
        ]
    expired.datasets = [row["id"] for row in old_datasets]
    gone = set(expired.datasets)
    old_images = [row for row in old_images if row["dataset_id"] not in gone]
    expired.images = [row["id"] for row in old_images]
    if dry_run:
        return expired
    still_old = sa.and_(_TRASHED_DATASET, _D.c.deleted_at < cutoff)
    for row in old_datasets:
        try:
            summary = datasets.remove_dataset(store, row, only_if=still_old)
        except NotFoundError:  # restored (or purged) since it was listed
            expired.datasets.remove(row["id"])
            continue
        expired.blobs += summary["gcs_blobs_deleted"]
    for start in range(0, len(old_images), 500):
        batch = old_images[start : start + 500]
        with store.write() as conn:
            kept = _still_trashed(conn, [row["id"] for row in batch], cutoff)
            unused = images.drop_images(conn, [row for row in batch if row["id"] in kept])
        images.delete_blobs(store, unused)
        expired.blobs += len(unused)
    return expired


def _still_trashed(conn: sa.Connection, ids: list[str], cutoff: datetime) -> set[str]:
    """Of ``ids``, the images still in the trash since before ``cutoff`` (not restored since)."""
    query = sa.select(_I.c.id).where(_I.c.id.in_(ids), _TRASHED_IMAGE, _I.c.deleted_at < cutoff)
    return set(conn.scalars(query))

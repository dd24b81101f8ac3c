"""Images: listing with filters, lookup by id or path, bytes, archive and permanent delete."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from pictograph.errors import NotFoundError
from pictograph.models import Image
from pictograph.server.service.context import AppContext, Links, Page, clamp, now, row_dict
from pictograph.server.service.datasets import LIVE, resolve, unreferenced_blobs
from pictograph.server.service.paths import (
    canonical_uuid,
    is_uuid,
    join,
    normalize_directory,
    split_image_path,
)
from pictograph.server.service.views import to_image
from pictograph.server.store import tables as t

_I = t.images
_NEWEST_FIRST = (_I.c.created_at.desc(), _I.c.id.desc())
_BATCH = 500


@dataclass(frozen=True)
class ImageFilters:
    """Filters of ``GET $P/images/``; ``None`` means "any"."""

    directory_path: str | None = None
    status: str | None = None
    split: str | None = None
    include_archived: bool = False
    min_confidence_lt: float | None = None
    filename: str | None = None

    def clauses(self) -> list[sa.ColumnElement[bool]]:
        found: list[sa.ColumnElement[bool]] = []
        if self.directory_path is not None:
            found.append(_I.c.directory_path == normalize_directory(self.directory_path))
        if self.status is not None:
            found.append(_I.c.status == self.status)
        if self.split is not None:
            found.append(_I.c.split == self.split)
        if not self.include_archived:
            found.append(_I.c.is_archived == sa.false())
        if self.min_confidence_lt is not None:
            found.append(_I.c.min_confidence < self.min_confidence_lt)
        if self.filename is not None:
            found.extend(_by_name(self.filename, self.directory_path))
        return found


def _by_name(name: str, directory_path: str | None) -> list[sa.ColumnElement[bool]]:
    """``filename`` as a filter: a bare filename, or (no ``directory_path`` given) the
    ``folder/file`` form every per-image route takes; a filename never holds a ``/``."""
    head, slash, filename = name.strip("/").rpartition("/")
    if not slash or directory_path is not None:
        return [_I.c.filename == name]
    return [_I.c.filename == filename, _I.c.directory_path == normalize_directory(head)]


def page_of_images(
    conn: sa.Connection,
    dataset_id: str,
    filters: ImageFilters,
    links: Links,
    *,
    limit: int,
    offset: int,
) -> Page:
    """A page of a dataset's images, newest first (``created_at`` then ``id``, both descending)."""
    where = sa.and_(_I.c.dataset_id == dataset_id, *filters.clauses())
    total = conn.execute(sa.select(sa.func.count()).select_from(_I).where(where)).scalar_one()
    query = sa.select(_I).where(where).order_by(*_NEWEST_FIRST).limit(limit).offset(offset)
    items = [to_image(row._mapping, links) for row in conn.execute(query)]
    return Page(items=items, total=total, limit=limit, offset=offset)


def list_images(
    store: AppContext,
    organization_id: str,
    ref: str,
    filters: ImageFilters,
    links: Links,
    *,
    limit: int,
    offset: int,
    cap: int = 1000,
) -> Page:
    """A page of the dataset's images. ``NotFoundError`` for an unknown dataset."""
    limit, offset = clamp(limit, offset, cap)
    with store.read() as conn:
        dataset = resolve(conn, organization_id, ref)
        return page_of_images(conn, dataset["id"], filters, links, limit=limit, offset=offset)


def get_by_id(store: AppContext, organization_id: str, image_id: str, links: Links) -> Image:
    """The image with this id in the organisation, archived or not; ``NotFoundError`` otherwise."""
    if not is_uuid(image_id):
        raise NotFoundError(f"image {image_id!r} not found")
    query = (
        sa.select(_I)
        .join(t.datasets, t.datasets.c.id == _I.c.dataset_id)
        .where(_I.c.id == canonical_uuid(image_id))
        .where(t.datasets.c.organization_id == organization_id, LIVE)
    )
    with store.read() as conn:
        row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"image {image_id!r} not found")
    return to_image(row._mapping, links)


def find_by_path(
    conn: sa.Connection, organization_id: str, ref: str, segment: str
) -> dict[str, Any]:
    """The image row at ``dir/filename`` in the dataset (archived included); ``NotFoundError``."""
    dataset = resolve(conn, organization_id, ref)
    directory, filename = split_image_path(segment)
    query = sa.select(_I).where(
        _I.c.dataset_id == dataset["id"],
        _I.c.directory_path == directory,
        _I.c.filename == filename,
    )
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"image {join(directory, filename)} not found in dataset {ref!r}")
    return row_dict(row)


@dataclass(frozen=True)
class ImageFile:
    """Which blob holds an image's bytes, and how to label them."""

    key: str
    filename: str
    content_type: str
    size: int


def image_file(store: AppContext, organization_id: str, ref: str, segment: str) -> ImageFile:
    """The stored file of the image at ``dir/filename``; ``NotFoundError`` when absent."""
    with store.read() as conn:
        row = find_by_path(conn, organization_id, ref, segment)
    return _file_of(store, row)


def image_file_by_id(store: AppContext, image_id: str) -> ImageFile:
    """The stored file of an image by id (used by signed blob URLs)."""
    with store.read() as conn:
        row = conn.execute(sa.select(_I).where(_I.c.id == image_id)).first()
    if row is None:
        raise NotFoundError("image not found")
    return _file_of(store, row_dict(row))


def _file_of(store: AppContext, row: dict[str, Any]) -> ImageFile:
    return ImageFile(
        key=row["blob_key"],
        filename=row["filename"],
        content_type=row["content_type"] or "application/octet-stream",
        size=row["file_size"],
    )


def delete_image(
    store: AppContext, organization_id: str, ref: str, segment: str, permanent: bool
) -> dict[str, Any]:
    """Archive the image and put it in the trash (idempotent: the first deletion's time stays)
    or, with ``permanent``, remove row and bytes."""
    unused: list[str] = []
    with store.write() as conn:
        row = find_by_path(conn, organization_id, ref, segment)
        if permanent:
            unused = drop_images(conn, [row])
        else:
            stamp = now()
            values = {"is_archived": True, "deleted_at": row["deleted_at"] or stamp}
            conn.execute(_I.update().where(_I.c.id == row["id"]).values(**values, updated_at=stamp))
    delete_blobs(store, unused)
    return {"id": row["id"], "deleted": True, "permanent": permanent}


def drop_images(conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Delete the image ``rows`` in ``conn``'s transaction; the blob keys no row refers to any
    more, for ``delete_blobs`` once it commits. The one permanent deletion of images: the
    ``permanent`` routes, purging from the trash and gc use it."""
    ids = [row["id"] for row in rows]
    for start in range(0, len(ids), _BATCH):
        conn.execute(_I.delete().where(_I.c.id.in_(ids[start : start + _BATCH])))
    return unreferenced_blobs(conn, {row["blob_key"] for row in rows})


def delete_blobs(store: AppContext, keys: Iterable[str]) -> None:
    for key in keys:
        store.blobs.delete(key)

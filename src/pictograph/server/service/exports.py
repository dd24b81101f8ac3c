"""Exports: jobs that build a ZIP of one dataset's labels (and optionally its images).

A row is created ``pending``; the worker in ``export_jobs`` builds it off the request thread.
Reads are one row each, so clients may poll often.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from pictograph.errors import ConflictError, NotFoundError, ValidationError
from pictograph.server.service.context import (
    AppContext,
    Links,
    Page,
    aware,
    clamp,
    new_id,
    now,
    row_dict,
)
from pictograph.server.service.datasets import LIVE, resolve
from pictograph.server.service.paths import canonical_uuid, is_uuid
from pictograph.server.service.versions import find_version
from pictograph.server.store import tables as t

_E = t.exports
#: Formats this server builds (the official SDK advertises more: darwin, datumaro and the YOLO
#: OBB/pose variants are refused at create).
FORMATS = ("pictograph", "coco", "yolo", "imagefolder", "pascal_voc", "labelme", "cvat", "csv")
IMAGE_STATUSES = ("new", "annotate", "review", "complete")
STATES = ("pending", "processing", "completed", "failed")
#: A job cancelled through ``$P/jobs`` is stored ``cancelled``; the official ``Export`` model
#: knows only ``STATES``, so an export reads it as ``failed`` (its error says why).
CANCELLED = "cancelled"
#: How long a finished archive is kept before it may be collected (reported as ``expires_at``).
KEEP_FOR = timedelta(days=7)


@dataclass(frozen=True)
class ExportRequest:
    """What ``POST $P/exports/`` asks for."""

    dataset: str
    name: str
    format: str = "pictograph"
    include_images: bool = False
    class_filter: list[str] | None = None
    status_filter: str | None = None
    organize_by_split: bool = False
    #: Export this version of the dataset (by name or id) instead of its live images.
    version: str | None = None


def _check(request: ExportRequest, classes: list[dict[str, Any]]) -> None:
    if not request.name.strip() or len(request.name) > 100:
        raise ValidationError("an export name has 1 to 100 characters")
    if request.format not in FORMATS:
        raise ValidationError(
            f"export format {request.format!r} is not supported by this server: "
            f"choose one of {', '.join(FORMATS)}"
        )
    if request.status_filter is not None and request.status_filter not in IMAGE_STATUSES:
        raise ValidationError(
            f"status_filter {request.status_filter!r} is not an image status: "
            f"choose one of {', '.join(IMAGE_STATUSES)}"
        )
    known = {item["name"] for item in classes}
    unknown = [name for name in request.class_filter or [] if name not in known]
    if unknown:
        raise ValidationError(
            f"class_filter names classes the dataset does not have: {', '.join(unknown)} "
            f"(its classes: {', '.join(sorted(known)) or 'none'})"
        )


def create_export(
    store: AppContext, organization_id: str, request: ExportRequest, links: Links
) -> dict[str, Any]:
    """Queue an export; its wire form (status ``pending``).

    ``NotFoundError`` for an unknown dataset, ``ValidationError`` for a bad format, status filter,
    class filter or name, ``ConflictError`` when the dataset already has an export of that name.
    """
    with store.write() as conn:
        dataset = resolve(conn, organization_id, request.dataset)
        version = None if request.version is None else find_version(conn, dataset, request.version)
        _check(request, list((version or dataset)["classes"] or []))
        taken = conn.execute(
            sa.select(_E.c.id).where(_E.c.dataset_id == dataset["id"], _E.c.name == request.name)
        ).first()
        if taken is not None:
            raise ConflictError(
                f"an export called {request.name!r} already exists in dataset {dataset['name']!r}"
            )
        row = {
            "id": new_id(),
            "organization_id": organization_id,
            "dataset_id": dataset["id"],
            "name": request.name,
            "format": request.format,
            "include_images": request.include_images,
            "class_filter": request.class_filter,
            "status_filter": request.status_filter,
            "organize_by_split": request.organize_by_split,
            "version_id": version["id"] if version else None,
            "status": "pending",
            "attempts": 0,
            "created_at": now(),
        }
        conn.execute(_E.insert().values(**row))
    row["version_name"] = version["name"] if version else None
    return to_wire(row, dataset["name"], links)


def to_wire(row: dict[str, Any], dataset_name: str, links: Links | None) -> dict[str, Any]:
    """The ``Export`` object the SDK parses."""
    done = row["status"] == "completed"
    return {
        "id": row["id"],
        "organization_id": row["organization_id"],
        "dataset_id": row["dataset_id"],
        "dataset_name": dataset_name,
        "name": row["name"],
        "format": row["format"],
        "include_images": bool(row["include_images"]),
        "class_filter": row["class_filter"],
        "status_filter": row["status_filter"],
        "organize_by_split": bool(row["organize_by_split"]),
        "version": row.get("version_name"),
        "status": "failed" if row["status"] == CANCELLED else row["status"],
        "error_message": row.get("error_message"),
        "file_size": row.get("file_size"),
        "image_count": row.get("image_count"),
        "annotation_count": row.get("annotation_count"),
        "created_at": aware(row["created_at"]),
        "completed_at": aware(row.get("completed_at")),
        "expires_at": aware(row.get("expires_at")),
        "download_url": export_url(links, row["id"]) if done and links else None,
    }


def export_url(links: Links, export_id: str) -> str:
    """Absolute, unauthenticated, expiring URL answering the archive's bytes."""
    token = links.signer.dumps({"kind": "export", "export": export_id})
    return f"{links.base}/storage/exports/{token}"


def _select() -> sa.Select[Any]:
    _V = t.dataset_versions
    return (
        sa.select(_E, t.datasets.c.name.label("dataset_name"), _V.c.name.label("version_name"))
        .join(t.datasets, sa.and_(t.datasets.c.id == _E.c.dataset_id, LIVE))
        .outerjoin(_V, _V.c.id == _E.c.version_id)
    )


def find(
    conn: sa.Connection, organization_id: str, ref: str, dataset: str | None
) -> dict[str, Any]:
    """The export row named ``ref`` in ``dataset``, or with id ``ref`` when ``dataset`` is None.

    ``NotFoundError`` when either is unknown to the organisation.
    """
    query = _select().where(_E.c.organization_id == organization_id)
    if dataset is None:
        if not is_uuid(ref):
            raise NotFoundError(f"export {ref!r} not found (name an export with ?dataset=)")
        query = query.where(_E.c.id == canonical_uuid(ref))
    else:
        found = resolve(conn, organization_id, dataset)
        query = query.where(_E.c.dataset_id == found["id"], _E.c.name == ref)
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"export {ref!r} not found")
    return row_dict(row)


def get_export(
    store: AppContext, organization_id: str, ref: str, dataset: str | None, links: Links
) -> dict[str, Any]:
    """One export's wire form (see ``find`` for addressing and errors)."""
    with store.read() as conn:
        row = find(conn, organization_id, ref, dataset)
    return to_wire(row, row["dataset_name"], links)


def list_exports(
    store: AppContext,
    organization_id: str,
    links: Links,
    *,
    dataset: str | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page:
    """The organisation's exports, newest first; ``NotFoundError`` for an unknown dataset."""
    limit, offset = clamp(limit, offset, 1000)
    if status is not None and status not in STATES:
        raise ValidationError(f"status {status!r} is not one of {', '.join(STATES)}")
    where = [_E.c.organization_id == organization_id]
    if status is not None:
        same = (status, CANCELLED) if status == "failed" else (status,)
        where.append(_E.c.status.in_(same))
    with store.read() as conn:
        if dataset is not None:
            where.append(_E.c.dataset_id == resolve(conn, organization_id, dataset)["id"])
        total = conn.execute(sa.select(sa.func.count()).select_from(_E).where(*where)).scalar_one()
        query = (
            _select()
            .where(*where)
            .order_by(_E.c.created_at.desc(), _E.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        rows = [row_dict(row) for row in conn.execute(query)]
    items = [to_wire(row, row["dataset_name"], links) for row in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


def download_url(
    store: AppContext, organization_id: str, ref: str, dataset: str | None, links: Links
) -> dict[str, Any]:
    """``{"download_url"}`` for a completed export; ``ConflictError`` while it is not done."""
    with store.read() as conn:
        row = find(conn, organization_id, ref, dataset)
    if row["status"] != "completed":
        detail = f": {row['error_message']}" if row["status"] == "failed" else ""
        raise ConflictError(f"export {row['name']!r} is {row['status']}, not completed{detail}")
    return {"download_url": export_url(links, row["id"]), "expires_in": _ttl(store)}


def _ttl(store: AppContext) -> int:
    return store.settings.signed_url_ttl_seconds


def archive_key(store: AppContext, export_id: str) -> str:
    """The blob key of a completed export's archive (for a verified download token)."""
    query = sa.select(_E.c.blob_key, _E.c.status).where(_E.c.id == export_id)
    with store.read() as conn:
        row = conn.execute(query).first()
    if row is None or row.status != "completed" or not row.blob_key:
        raise NotFoundError("this export no longer exists")
    return str(row.blob_key)


def delete_export(store: AppContext, organization_id: str, ref: str, dataset: str | None) -> None:
    """Delete the export and its archive; ``NotFoundError`` when unknown."""
    with store.write() as conn:
        row = find(conn, organization_id, ref, dataset)
        conn.execute(_E.delete().where(_E.c.id == row["id"]))
    if row["blob_key"]:
        store.blobs.delete(row["blob_key"])


def bulk_delete(store: AppContext, organization_id: str, export_ids: list[str]) -> dict[str, Any]:
    """Delete exports by id: ``{"succeeded", "not_found", "count"}``."""
    ids = {canonical_uuid(item): item for item in export_ids if is_uuid(item)}
    query = sa.select(_E.c.id, _E.c.blob_key).where(
        _E.c.organization_id == organization_id, _E.c.id.in_(list(ids))
    )
    with store.write() as conn:
        found = {row.id: row.blob_key for row in conn.execute(query)}
        if found:
            conn.execute(_E.delete().where(_E.c.id.in_(list(found))))
    for key in found.values():
        if key:
            store.blobs.delete(key)
    succeeded = [ids[item] for item in found]
    missing = [item for item in export_ids if item not in succeeded]
    return {"succeeded": succeeded, "not_found": missing, "count": len(succeeded)}

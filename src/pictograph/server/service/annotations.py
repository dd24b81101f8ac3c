"""Per-image annotations: checked against the dataset's classes, replaced as a whole, one image
at a time or up to 200 in one transaction."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pictograph.errors import ApiError, ValidationError
from pictograph.server.service.annotation_shapes import check, readable
from pictograph.server.service.context import AppContext, now, row_dict
from pictograph.server.service.datasets import LIVE, resolve
from pictograph.server.service.images import find_by_path
from pictograph.server.service.paths import canonical_uuid, is_uuid
from pictograph.server.store import tables as t

#: Most images one bulk save may name (the hosted backend's cap, which the SDK chunks to).
MAX_BULK = 200


def get_annotations(
    store: AppContext, organization_id: str, ref: str, segment: str
) -> dict[str, Any]:
    """``{"image_id", "annotations"}``; an image without annotations gives ``[]``."""
    with store.read() as conn:
        row = find_by_path(conn, organization_id, ref, segment)
    return {"image_id": row["id"], "annotations": [readable(a) for a in row["annotations"] or []]}


def min_confidence(annotations: list[Any]) -> float | None:
    """The lowest confidence among ``annotations`` (None without any)."""
    found = [
        float(item["confidence"])
        for item in annotations
        if isinstance(item, dict) and isinstance(item.get("confidence"), int | float)
    ]
    return min(found) if found else None


def checked(annotations: list[Any], classes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``annotations`` in canonical form; ``ValidationError`` for the first one refused."""
    return [check(item, index, classes) for index, item in enumerate(annotations)]


def write(conn: sa.Connection, image: dict[str, Any], annotations: list[Any]) -> dict[str, Any]:
    """Replace the image row's annotations; the save answer the SDK reads."""
    values = {
        "annotations": annotations,
        "annotation_count": len(annotations),
        "min_confidence": min_confidence(annotations),
        "updated_at": now(),
    }
    conn.execute(t.images.update().where(t.images.c.id == image["id"]).values(**values))
    return {
        "image_id": image["id"],
        "previous_count": len(image["annotations"] or []),
        "new_count": len(annotations),
        "status": image["status"],
    }


def replace_annotations(
    store: AppContext, organization_id: str, ref: str, segment: str, annotations: list[Any]
) -> dict[str, Any]:
    """Replace all annotations; ``{"image_id", "previous_count", "new_count", "status"}`` with
    the image's (unchanged) status. ``ValidationError`` for an unknown class or a bad shape."""
    with store.write() as conn:
        dataset = resolve(conn, organization_id, ref)
        row = find_by_path(conn, organization_id, dataset["id"], segment)
        return write(conn, row, checked(annotations, list(dataset["classes"] or [])))


def clear_annotations(
    store: AppContext, organization_id: str, ref: str, segment: str
) -> dict[str, Any]:
    """Remove every annotation of the image; ``{"image_id", "deleted_count"}``."""
    with store.write() as conn:
        row = find_by_path(conn, organization_id, ref, segment)
        answer = write(conn, row, [])
    return {"image_id": answer["image_id"], "deleted_count": answer["previous_count"]}


def bulk_save(
    store: AppContext, organization_id: str, saves: list[tuple[str, list[Any]]]
) -> dict[str, Any]:
    """Replace the annotations of many images (ids anywhere in the organisation), in one
    transaction: ``{"saved": [...], "failed": [{"image_id", "error"}]}``. An unknown id or a
    refused annotation fails that image alone."""
    if len(saves) > MAX_BULK:
        raise ValidationError(f"at most {MAX_BULK} images per bulk save, got {len(saves)}")
    ids = [canonical_uuid(image_id) for image_id, _ in saves if is_uuid(image_id)]
    query = (
        sa.select(t.images, t.datasets.c.classes.label("dataset_classes"))
        .join(t.datasets, t.datasets.c.id == t.images.c.dataset_id)
        .where(t.datasets.c.organization_id == organization_id, LIVE, t.images.c.id.in_(ids))
    )
    saved: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    with store.write() as conn:
        rows = {row.id: row_dict(row) for row in conn.execute(query)}
        for image_id, annotations in saves:
            row = rows.get(canonical_uuid(image_id)) if is_uuid(image_id) else None
            if row is None:
                failed.append({"image_id": image_id, "error": "image not found"})
                continue
            try:
                clean = checked(annotations, list(row["dataset_classes"] or []))
            except ApiError as error:
                failed.append({"image_id": image_id, "error": error.message})
                continue
            saved.append(write(conn, row, clean))
            row["annotations"] = clean  # a second save of the same id counts from this one
    return {"saved": saved, "failed": failed}

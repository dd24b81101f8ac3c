"""Per-image annotations: checked against the dataset's classes, replaced as a whole, one image
at a time or up to 200 in one transaction.

Every change raises the image's ``annotation_version``. A save that names the version it edited
(an editor's ``If-Match``, the SDK's ``version=``) is refused with ``ConflictError`` when the
image has changed since; a save that names none replaces whatever is there, as before."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pictograph.errors import ApiError, ConflictError, ValidationError
from pictograph.server.service.annotation_shapes import check, readable
from pictograph.server.service.context import AppContext, now, row_dict
from pictograph.server.service.datasets import LIVE, resolve
from pictograph.server.service.images import find_by_path
from pictograph.server.service.paths import canonical_uuid, is_uuid
from pictograph.server.store import tables as t

#: Most images one bulk save may name (the hosted backend's cap, which the SDK chunks to).
MAX_BULK = 200
#: The error code of a save refused because the image changed after the version it edited.
STALE_VERSION = "stale_version"


def get_annotations(
    store: AppContext, organization_id: str, ref: str, segment: str
) -> dict[str, Any]:
    """``{"image_id", "annotations", "version"}``; an image without annotations gives ``[]``."""
    with store.read() as conn:
        row = find_by_path(conn, organization_id, ref, segment)
    return {
        "image_id": row["id"],
        "annotations": [readable(a) for a in row["annotations"] or []],
        "version": row["annotation_version"],
    }


def min_confidence(annotations: list[Any]) -> float | None:
    """The lowest confidence among ``annotations`` (None without any)."""
    found = [
        float(item["confidence"])
        for item in annotations
        if isinstance(item, dict) and isinstance(item.get("confidence"), int | float)
    ]
    return min(found) if found else None


def checked(
    annotations: list[Any], classes: list[dict[str, Any]], image: dict[str, Any]
) -> list[dict[str, Any]]:
    """``annotations`` in canonical form; ``ValidationError`` for the first one refused (a class
    the dataset lacks, a bad shape, one outside the image row's known width and height)."""
    size = (image["width"], image["height"]) if image.get("width") and image.get("height") else None
    return [check(item, index, classes, size) for index, item in enumerate(annotations)]


def changed_values(annotations: list[Any]) -> dict[str, Any]:
    """The image row's values after its annotations became ``annotations`` (version raised)."""
    return {
        "annotations": annotations,
        "annotation_count": len(annotations),
        "min_confidence": min_confidence(annotations),
        "annotation_version": t.images.c.annotation_version + 1,
        "updated_at": now(),
    }


def write(
    conn: sa.Connection,
    image: dict[str, Any],
    annotations: list[Any],
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Replace the image row's annotations; the save answer the SDK reads, with the new
    ``version``. With ``expected_version``, ``ConflictError`` unless the row is still at it
    (checked in the UPDATE itself, so two concurrent saves of one version cannot both win)."""
    where = [t.images.c.id == image["id"]]
    if expected_version is not None:
        where.append(t.images.c.annotation_version == expected_version)
    update = t.images.update().where(*where).values(**changed_values(annotations))
    version = conn.execute(update.returning(t.images.c.annotation_version)).scalar()
    if version is None:
        raise stale(image, expected_version)
    return {
        "image_id": image["id"],
        "previous_count": len(image["annotations"] or []),
        "new_count": len(annotations),
        "status": image["status"],
        "version": int(version),
    }


def stale(image: dict[str, Any], expected_version: int | None) -> ConflictError:
    """The refusal of a save that edited an older version of the image's annotations."""
    return ConflictError(
        f"the annotations of {image['filename']} were changed by someone else after version "
        f"{expected_version} was read (now version {image['annotation_version']}): reload them "
        "and make your change again",
        code=STALE_VERSION,
        details={"expected_version": expected_version, "version": image["annotation_version"]},
    )


def replace_annotations(
    store: AppContext,
    organization_id: str,
    ref: str,
    segment: str,
    annotations: list[Any],
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Replace all annotations; ``{"image_id", "previous_count", "new_count", "status",
    "version"}`` with the image's (unchanged) status. ``ValidationError`` for an unknown class or
    a bad shape; ``ConflictError`` (code ``stale_version``) when ``expected_version`` is given
    and the image's annotations have changed since. Nothing is saved on a refusal."""
    with store.write() as conn:
        dataset = resolve(conn, organization_id, ref)
        row = find_by_path(conn, organization_id, dataset["id"], segment)
        if expected_version is not None and row["annotation_version"] != expected_version:
            raise stale(row, expected_version)
        clean = checked(annotations, list(dataset["classes"] or []), row)
        return write(conn, row, clean, expected_version)


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
                clean = checked(annotations, list(row["dataset_classes"] or []), row)
            except ApiError as error:
                failed.append({"image_id": image_id, "error": error.message})
                continue
            saved.append(write(conn, row, clean))
            row["annotations"] = clean  # a second save of the same id counts from this one
    return {"saved": saved, "failed": failed}

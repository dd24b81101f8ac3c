"""Per-image annotations: stored and returned verbatim, replaced as a whole."""

from __future__ import annotations

from typing import Any

from pictograph.server.service.context import Store, now
from pictograph.server.service.images import find_by_path
from pictograph.server.store import tables as t


def get_annotations(store: Store, organization_id: str, ref: str, segment: str) -> dict[str, Any]:
    """``{"image_id", "annotations"}``; an image without annotations gives ``[]``."""
    with store.read() as conn:
        row = find_by_path(conn, organization_id, ref, segment)
    return {"image_id": row["id"], "annotations": list(row["annotations"] or [])}


def _min_confidence(annotations: list[Any]) -> float | None:
    found = [
        float(item["confidence"])
        for item in annotations
        if isinstance(item, dict) and isinstance(item.get("confidence"), int | float)
    ]
    return min(found) if found else None


def _store(
    store: Store, organization_id: str, ref: str, segment: str, annotations: list[Any]
) -> tuple[str, int]:
    with store.write() as conn:
        row = find_by_path(conn, organization_id, ref, segment)
        values = {
            "annotations": annotations,
            "annotation_count": len(annotations),
            "min_confidence": _min_confidence(annotations),
            "updated_at": now(),
        }
        conn.execute(t.images.update().where(t.images.c.id == row["id"]).values(**values))
    return row["id"], len(row["annotations"] or [])


def replace_annotations(
    store: Store, organization_id: str, ref: str, segment: str, annotations: list[Any]
) -> dict[str, Any]:
    """Replace all annotations; ``{"image_id", "previous_count", "new_count", "status"}``."""
    image_id, previous = _store(store, organization_id, ref, segment, annotations)
    return {
        "image_id": image_id,
        "previous_count": previous,
        "new_count": len(annotations),
        "status": "saved",
    }


def clear_annotations(store: Store, organization_id: str, ref: str, segment: str) -> dict[str, Any]:
    """Remove every annotation of the image; ``{"image_id", "deleted_count"}``."""
    image_id, previous = _store(store, organization_id, ref, segment, [])
    return {"image_id": image_id, "deleted_count": previous}

"""Dataset health (``GET $P/datasets/{dataset}/insights``), the official ``DatasetInsights``.

Every figure is read from ``insight_counts``: per dataset, counts the database keeps up to date
by triggers on ``images`` on every write (migration 0016; over live, non-archived images):
totals, labelling stages, annotations-per-image buckets, orientations, sizes, per-class and
per-type counts (from the stored annotation lists, ``json_each`` on SQLite,
``json_array_elements`` on PostgreSQL). A call reads a few rows, however large the dataset.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pictograph.server.service.context import AppContext
from pictograph.server.service.datasets import resolve
from pictograph.server.store import tables as t

_C = t.insight_counts
STAGES = ("new", "annotate", "review", "complete")
#: Annotations-per-image buckets, as the triggers name them.
DENSITY = ("0", "1", "2-5", "6-10", "11-20", "21+")
ORIENTATIONS = ("landscape", "portrait", "square")
MAX_SIZES = 200


def _average(total: int, count: int) -> int | None:
    return round(total / count) if count else None


def insights(store: AppContext, organization_id: str, ref: str) -> dict[str, Any]:
    """The dataset's health; ``NotFoundError`` for an unknown dataset."""
    with store.read() as conn:
        dataset = resolve(conn, organization_id, ref)
        query = sa.select(_C.c.kind, _C.c.key, _C.c.w, _C.c.h, _C.c.n).where(
            _C.c.dataset_id == dataset["id"], _C.c.n != 0
        )
        rows = conn.execute(query).all()
    counts: dict[str, dict[str, int]] = {}
    sizes: list[tuple[int, int, int]] = []
    for row in rows:
        if row.kind == "size":
            sizes.append((int(row.w), int(row.h), int(row.n)))
        else:
            counts.setdefault(row.kind, {})[row.key] = int(row.n)
    total = counts.get("total", {})
    images, annotations = total.get("images", 0), total.get("annotations", 0)
    unannotated = total.get("density:0", 0)
    with_dimensions = sum(n for _, _, n in sizes)
    sizes.sort(key=lambda s: (-s[2], s[0], s[1]))
    return {
        "total_images": images,
        "total_annotations": annotations,
        "annotated_images": images - unannotated,
        "unannotated_images": unannotated,
        "avg_annotations_per_image": round(annotations / images, 3) if images else 0.0,
        "total_bytes": total.get("bytes", 0),
        "status_counts": {s: total.get(f"status:{s}", 0) for s in STAGES},
        "class_annotation_counts": counts.get("class", {}),
        "class_image_counts": counts.get("class_image", {}),
        "type_counts": counts.get("type", {}),
        "annotation_density": {label: total.get(f"density:{label}", 0) for label in DENSITY},
        "dimensions": {
            "min_width": min((w for w, _, _ in sizes), default=None),
            "max_width": max((w for w, _, _ in sizes), default=None),
            "avg_width": _average(sum(w * n for w, _, n in sizes), with_dimensions),
            "min_height": min((h for _, h, _ in sizes), default=None),
            "max_height": max((h for _, h, _ in sizes), default=None),
            "avg_height": _average(sum(h * n for _, h, n in sizes), with_dimensions),
            "orientation": {k: counts.get("orientation", {}).get(k, 0) for k in ORIENTATIONS},
            "sizes": [{"w": w, "h": h, "count": n} for w, h, n in sizes[:MAX_SIZES]],
            "distinct_size_count": len(sizes),
            "images_with_dimensions": with_dimensions,
            "images_missing_dimensions": images - with_dimensions,
        },
        "model_confidence": None,
    }

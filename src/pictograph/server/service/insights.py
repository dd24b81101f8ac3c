"""Dataset health (``GET $P/datasets/{dataset}/insights``), the official ``DatasetInsights``.

Every figure is an aggregate the database computes over the dataset's live (non-archived) images:
totals, labelling stages, annotations-per-image buckets and dimensions from the image columns,
per-class and per-type counts from the stored annotation lists (``json_each`` on SQLite,
``json_array_elements`` on PostgreSQL). Nothing is read image by image in Python.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pictograph.server.service.context import AppContext
from pictograph.server.service.datasets import resolve
from pictograph.server.store import tables as t

_I = t.images
STAGES = ("new", "annotate", "review", "complete")
#: Annotations-per-image buckets: (label, least, most); None means no upper bound.
DENSITY = (("0", 0, 0), ("1", 1, 1), ("2-5", 2, 5), ("6-10", 6, 10), ("11-20", 11, 20),
           ("21+", 21, None))  # fmt: skip
MAX_SIZES = 200

#: Per (name, type): annotations; per name (a class's types together): images containing it.
_LABELS = {
    "sqlite": """
        SELECT json_extract(a.value, '$.name') AS name, json_extract(a.value, '$.type') AS type,
               count(*) AS annotations, NULL AS images
        FROM images AS i, json_each(i.annotations) AS a
        WHERE i.dataset_id = :dataset AND i.is_archived = 0 AND i.annotation_count > 0
        GROUP BY 1, 2
        UNION ALL
        SELECT json_extract(a.value, '$.name'), NULL, 0, count(DISTINCT i.id)
        FROM images AS i, json_each(i.annotations) AS a
        WHERE i.dataset_id = :dataset AND i.is_archived = 0 AND i.annotation_count > 0
        GROUP BY 1""",
    "postgresql": """
        SELECT a.value ->> 'name' AS name, a.value ->> 'type' AS type,
               count(*) AS annotations, NULL AS images
        FROM images AS i, json_array_elements(i.annotations) AS a(value)
        WHERE i.dataset_id = :dataset AND NOT i.is_archived AND i.annotation_count > 0
        GROUP BY 1, 2
        UNION ALL
        SELECT a.value ->> 'name', NULL, 0, count(DISTINCT i.id)
        FROM images AS i, json_array_elements(i.annotations) AS a(value)
        WHERE i.dataset_id = :dataset AND NOT i.is_archived AND i.annotation_count > 0
        GROUP BY 1""",
}


def _bucket(column: sa.ColumnElement[Any], least: int, most: int | None) -> Any:
    within = column >= least if most is None else column.between(least, most)
    return sa.func.sum(sa.case((within, 1), else_=0))


def _totals(conn: sa.Connection, live: Any) -> dict[str, Any]:
    count = _I.c.annotation_count
    columns = [
        sa.func.count().label("images"),
        sa.func.coalesce(sa.func.sum(count), 0).label("annotations"),
        sa.func.coalesce(sa.func.sum(_I.c.file_size), 0).label("bytes"),
        *(_bucket(count, lo, hi).label(f"d{n}") for n, (_, lo, hi) in enumerate(DENSITY)),
        *(sa.func.sum(sa.case((_I.c.status == s, 1), else_=0)).label(s) for s in STAGES),
        sa.func.min(_I.c.width).label("min_w"),
        sa.func.max(_I.c.width).label("max_w"),
        sa.func.avg(_I.c.width).label("avg_w"),
        sa.func.min(_I.c.height).label("min_h"),
        sa.func.max(_I.c.height).label("max_h"),
        sa.func.avg(_I.c.height).label("avg_h"),
        sa.func.sum(sa.case((_I.c.width > _I.c.height, 1), else_=0)).label("landscape"),
        sa.func.sum(sa.case((_I.c.width < _I.c.height, 1), else_=0)).label("portrait"),
        sa.func.sum(sa.case((_I.c.width == _I.c.height, 1), else_=0)).label("square"),
        sa.func.count(_I.c.width).label("with_dimensions"),
    ]
    return dict(conn.execute(sa.select(*columns).where(live)).one()._mapping)


def _sizes(conn: sa.Connection, live: Any) -> tuple[list[dict[str, int]], int]:
    grouped = (
        sa.select(_I.c.width, _I.c.height, sa.func.count().label("n"))
        .where(live, _I.c.width.is_not(None))
        .group_by(_I.c.width, _I.c.height)
        .subquery()
    )
    distinct = conn.execute(sa.select(sa.func.count()).select_from(grouped)).scalar_one()
    top = sa.select(grouped).order_by(grouped.c.n.desc(), grouped.c.width, grouped.c.height)
    rows = conn.execute(top.limit(MAX_SIZES))
    return [{"w": r.width, "h": r.height, "count": r.n} for r in rows], distinct


def _average(value: Any) -> int | None:
    return None if value is None else round(float(value))


def _int(value: Any) -> int:
    return int(value or 0)


def insights(store: AppContext, organization_id: str, ref: str) -> dict[str, Any]:
    """The dataset's health; ``NotFoundError`` for an unknown dataset."""
    with store.read() as conn:
        dataset = resolve(conn, organization_id, ref)
        live = sa.and_(_I.c.dataset_id == dataset["id"], _I.c.is_archived == sa.false())
        totals = _totals(conn, live)
        sizes, distinct = _sizes(conn, live)
        labels = conn.execute(sa.text(_LABELS[conn.dialect.name]), {"dataset": dataset["id"]})
        classes: dict[str, int] = {}
        class_images: dict[str, int] = {}
        types: dict[str, int] = {}
        for row in labels:
            name = row.name or ""
            if row.images is not None:
                class_images[name] = row.images
                continue
            classes[name] = classes.get(name, 0) + row.annotations
            types[row.type or ""] = types.get(row.type or "", 0) + row.annotations
    images, annotations = _int(totals["images"]), _int(totals["annotations"])
    unannotated = _int(totals["d0"])
    with_dimensions = _int(totals["with_dimensions"])
    return {
        "total_images": images,
        "total_annotations": annotations,
        "annotated_images": images - unannotated,
        "unannotated_images": unannotated,
        "avg_annotations_per_image": round(annotations / images, 3) if images else 0.0,
        "total_bytes": _int(totals["bytes"]),
        "status_counts": {s: _int(totals[s]) for s in STAGES},
        "class_annotation_counts": classes,
        "class_image_counts": class_images,
        "type_counts": types,
        "annotation_density": {
            label: _int(totals[f"d{n}"]) for n, (label, _, _) in enumerate(DENSITY)
        },
        "dimensions": {
            "min_width": totals["min_w"],
            "max_width": totals["max_w"],
            "avg_width": _average(totals["avg_w"]),
            "min_height": totals["min_h"],
            "max_height": totals["max_h"],
            "avg_height": _average(totals["avg_h"]),
            "orientation": {k: _int(totals[k]) for k in ("landscape", "portrait", "square")},
            "sizes": sizes,
            "distinct_size_count": distinct,
            "images_with_dimensions": with_dimensions,
            "images_missing_dimensions": images - with_dimensions,
        },
        "model_confidence": None,
    }

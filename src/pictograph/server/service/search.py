"""Search: images that look like a given image, and images carrying given tags."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from pictograph.errors import NotFoundError, ValidationError
from pictograph.server.service.context import AppContext, row_dict
from pictograph.server.service.datasets import LIVE, resolve
from pictograph.server.service.descriptors import descriptors, similarity
from pictograph.server.service.paths import canonical_uuid, is_uuid, normalize_directory
from pictograph.server.service.workload import Wanted, always
from pictograph.server.store import tables as t

_I = t.images
MAX_LIMIT = 500
_PAGE = 500


def _hit(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "dataset_id": row["dataset_id"],
        "filename": row["filename"],
        "status": row["status"],
        "annotation_count": row["annotation_count"] or 0,
        "virtual_directory_path": row["directory_path"],
        "image_auto_tags": {},
        "tags": list(row["tags"] or []),
    }


def similar(
    store: AppContext,
    organization_id: str,
    image_id: str,
    *,
    threshold: float = 0.6,
    limit: int = 50,
    directory_path: str | None = None,
    wanted: Wanted = always,
) -> dict[str, Any]:
    """Images of the source image's dataset and folder (or ``directory_path``) ranked by visual
    similarity in [0, 1], most alike first, the source excluded, at least ``threshold``.
    ``NotFoundError`` for an unknown image. Descriptors not stored yet are computed within the
    store's bounds; ``ClientGone`` when ``wanted()`` turns false before they all are."""
    if not 0 <= threshold <= 1:
        raise ValidationError("threshold is a number in [0, 1]")
    limit = max(1, min(limit, MAX_LIMIT))
    with store.read() as conn:
        source = _image(conn, organization_id, image_id)
        folder = normalize_directory(directory_path) if directory_path else source["directory_path"]
        query = sa.select(_I).where(
            _I.c.dataset_id == source["dataset_id"],
            _I.c.directory_path == folder,
            _I.c.is_archived == sa.false(),
            _I.c.id != source["id"],
        )
        candidates = [row_dict(row) for row in conn.execute(query)]
    known = descriptors(store, [source, *candidates], organization=organization_id, wanted=wanted)
    if source["id"] not in known:
        raise ValidationError("the source image's bytes could not be read to compare them")
    scored = [
        (similarity(known[source["id"]], known[row["id"]]), row)
        for row in candidates
        if row["id"] in known
    ]
    scored.sort(key=lambda pair: (-pair[0], pair[1]["id"]))
    results = [
        {**_hit(row), "similarity": round(score, 6)} for score, row in scored if score >= threshold
    ][:limit]
    return {
        "results": results,
        "count": len(results),
        "threshold": threshold,
        "query_image_id": source["id"],
    }


def _image(conn: sa.Connection, organization_id: str, image_id: str) -> dict[str, Any]:
    if not is_uuid(image_id):
        raise NotFoundError(f"image {image_id!r} not found")
    query = (
        sa.select(_I)
        .join(t.datasets, t.datasets.c.id == _I.c.dataset_id)
        .where(
            _I.c.id == canonical_uuid(image_id),
            t.datasets.c.organization_id == organization_id,
            LIVE,
        )
    )
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"image {image_id!r} not found")
    return row_dict(row)


def by_tags(
    store: AppContext,
    organization_id: str,
    tags: list[str],
    *,
    dataset: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """Non-archived images carrying every tag in ``tags`` (the images' own tags), oldest first,
    in the organisation or one dataset. ``ValidationError`` without tags, ``NotFoundError`` for
    an unknown dataset."""
    wanted = sorted({tag.strip() for tag in tags if tag.strip()})
    if not wanted:
        raise ValidationError("give at least one tag (objects, scenes or attributes)")
    limit, offset = max(1, min(limit, MAX_LIMIT)), max(0, offset)
    where: list[sa.ColumnElement[bool]] = [
        t.datasets.c.organization_id == organization_id,
        LIVE,
        _I.c.is_archived == sa.false(),
    ]
    as_text = sa.cast(_I.c.tags, sa.Text)
    for tag in wanted:  # a coarse filter in SQL; exact membership is checked below
        pattern = json.dumps(tag).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(as_text.like(f"%{pattern}%", escape="\\"))
    results: list[dict[str, Any]] = []
    skipped = 0
    with store.read() as conn:
        if dataset is not None:
            where.append(_I.c.dataset_id == resolve(conn, organization_id, dataset)["id"])
        query = (
            sa.select(_I)
            .join(t.datasets, t.datasets.c.id == _I.c.dataset_id)
            .where(*where)
            .order_by(_I.c.created_at, _I.c.id)
        )
        for row in conn.execute(query.execution_options(yield_per=_PAGE)):
            if not set(wanted) <= set(row.tags or []):
                continue
            if skipped < offset:
                skipped += 1
                continue
            results.append(_hit(row_dict(row)))
            if len(results) == limit:
                break
    return {
        "results": results,
        "count": len(results),
        "filters": {"tags": wanted},
        "pagination": {"limit": limit, "offset": offset},
    }

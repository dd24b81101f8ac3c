"""Dataset views that embed images: the detail with ``include_images`` and the download listing."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pictograph.models import Dataset
from pictograph.server.service import presigned
from pictograph.server.service.context import AppContext, Links, clamp
from pictograph.server.service.datasets import counts, resolve
from pictograph.server.service.images import ImageFilters, page_of_images
from pictograph.server.service.views import to_dataset
from pictograph.server.store import tables as t

IMAGES_CAP = 10000


def dataset_with_images(
    store: AppContext, organization_id: str, ref: str, links: Links, *, limit: int, offset: int
) -> Dataset:
    """The dataset with a page of its (non-archived) images, newest first."""
    limit, offset = clamp(limit, offset, IMAGES_CAP)
    with store.read() as conn:
        row = resolve(conn, organization_id, ref)
        page = page_of_images(conn, row["id"], ImageFilters(), links, limit=limit, offset=offset)
        return to_dataset(row, counts(conn, [row["id"]]).get(row["id"]), page.items)


def download_listing(
    store: AppContext,
    organization_id: str,
    ref: str,
    links: Links,
    *,
    limit: int,
    status_filter: str | None,
) -> dict[str, Any]:
    """``{"id", "items": [{"filename", "image_url", "annotation_url", ...}]}``.

    ``image_url`` is an absolute signed URL that needs no API key; ``annotation_url`` is the
    relative API path of the image's annotations.
    """
    limit, _ = clamp(limit, 0, IMAGES_CAP)
    images = t.images
    with store.read() as conn:
        dataset = resolve(conn, organization_id, ref)
        query = sa.select(images).where(
            images.c.dataset_id == dataset["id"], images.c.is_archived == sa.false()
        )
        if status_filter:
            query = query.where(images.c.status == status_filter)
        query = query.order_by(images.c.created_at.desc(), images.c.id.desc()).limit(limit)
        rows = [row._mapping for row in conn.execute(query)]
    items = [
        {
            "id": row["id"],
            "filename": row["filename"],
            "directory_path": row["directory_path"],
            "image_url": presigned.download_url(store, row) or links.blob_url(row["id"]),
            "annotation_url": links.annotation_url(
                row["dataset_id"], row["directory_path"], row["filename"]
            ),
            "file_size": row["file_size"],
            "sha256": row["sha256"],
        }
        for row in rows
    ]
    return {"id": dataset["id"], "name": dataset["name"], "items": items}

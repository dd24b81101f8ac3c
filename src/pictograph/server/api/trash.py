"""Routes of ``$P/trash``: list what was deleted without ``permanent``, restore it, purge it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from pictograph.models import dump
from pictograph.server.api.bodies import TrashRestore
from pictograph.server.api.deps import LinksDep, OrgDep, StoreDep, envelope, paged, route
from pictograph.server.service import trash

router = APIRouter(redirect_slashes=False)


@route(router, "/trash", "GET")
def list_trash(store: StoreDep, org: OrgDep, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    page = trash.list_trash(store, org, limit=limit, offset=offset)
    return paged(page, [dump(item) for item in page.items])


@route(router, "/trash/datasets/{dataset_id}/restore", "POST")
def restore_dataset(
    store: StoreDep, org: OrgDep, dataset_id: str, body: TrashRestore | None = None
) -> dict[str, Any]:
    new_name = body.new_name if body is not None else None
    return envelope(dump(trash.restore_dataset(store, org, dataset_id, new_name)))


@route(router, "/trash/images/{image_id}/restore", "POST")
def restore_image(store: StoreDep, org: OrgDep, links: LinksDep, image_id: str) -> dict[str, Any]:
    return envelope(dump(trash.restore_image(store, org, image_id, links)))


@route(router, "/trash/datasets/{dataset_id}", "DELETE")
def purge_dataset(store: StoreDep, org: OrgDep, dataset_id: str) -> dict[str, Any]:
    return envelope(trash.purge_dataset(store, org, dataset_id))


@route(router, "/trash/images/{image_id}", "DELETE")
def purge_image(store: StoreDep, org: OrgDep, image_id: str) -> dict[str, Any]:
    return envelope(trash.purge_image(store, org, image_id))

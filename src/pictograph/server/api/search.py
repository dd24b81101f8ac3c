"""Routes of ``$P/search``: ``{"results": [...]}`` bodies (no ``data`` envelope)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from pictograph.server.api.deps import OrgDep, StoreDep, route
from pictograph.server.service import search

router = APIRouter(redirect_slashes=False)


@route(router, "/search/similar", "GET")
def similar(
    store: StoreDep,
    org: OrgDep,
    image_id: str,
    threshold: float = 0.6,
    limit: int = 50,
    directory_path: str | None = None,
) -> Any:
    return search.similar(
        store, org, image_id, threshold=threshold, limit=limit, directory_path=directory_path
    )


@route(router, "/search/by-tags", "GET")
def by_tags(
    store: StoreDep,
    org: OrgDep,
    objects: Annotated[list[str] | None, Query()] = None,
    scenes: Annotated[list[str] | None, Query()] = None,
    attributes: Annotated[list[str] | None, Query()] = None,
    dataset_name: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Any:
    tags = [*(objects or []), *(scenes or []), *(attributes or [])]
    return search.by_tags(store, org, tags, dataset=dataset_name, limit=limit, offset=offset)

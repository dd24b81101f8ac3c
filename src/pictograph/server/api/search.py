"""Routes of ``$P/search``: ``{"results": [...]}`` bodies (no ``data`` envelope)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from pictograph.server.api.deps import OrgDep, StoreDep, route
from pictograph.server.api.expensive import run_expensive
from pictograph.server.service import duplicates, leakage, search
from pictograph.server.service.workload import Wanted

router = APIRouter(redirect_slashes=False)


@route(router, "/search/similar", "GET")
async def similar(
    request: Request,
    store: StoreDep,
    org: OrgDep,
    image_id: str,
    threshold: float = 0.6,
    limit: int = 50,
    directory_path: str | None = None,
) -> Any:
    def work(wanted: Wanted) -> dict[str, Any]:
        return search.similar(
            store,
            org,
            image_id,
            threshold=threshold,
            limit=limit,
            directory_path=directory_path,
            wanted=wanted,
        )

    return await run_expensive(request, "search", org, work)


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


@route(router, "/datasets/{dataset}/split-leaks", "GET")
async def split_leaks(
    request: Request, store: StoreDep, org: OrgDep, dataset: str, threshold: float = 0.95
) -> Any:
    """Our extension: near-duplicate images in different splits (``{"data": {"pairs", ...}}``)."""

    def work(wanted: Wanted) -> dict[str, Any]:
        found = leakage.split_leaks(store, org, dataset, threshold=threshold, wanted=wanted)
        return {"data": found}

    return await run_expensive(request, "search", org, work)


@route(router, "/datasets/{dataset}/duplicates", "GET")
async def near_duplicates(
    request: Request,
    store: StoreDep,
    org: OrgDep,
    dataset: str,
    threshold: float = duplicates.DEFAULT_THRESHOLD,
    sample: int = duplicates.DEFAULT_SAMPLE,
    neighbors: int = duplicates.DEFAULT_NEIGHBORS,
    max_pairs: int = duplicates.DEFAULT_PAIRS,
    directory_path: str | None = None,
) -> Any:
    """Near-duplicate clusters (``{"data": NearDuplicatesResult}``)."""

    def work(wanted: Wanted) -> dict[str, Any]:
        found = duplicates.near_duplicates(
            store,
            org,
            dataset,
            threshold=threshold,
            sample=sample,
            neighbors=neighbors,
            max_pairs=max_pairs,
            directory_path=directory_path,
            wanted=wanted,
        )
        return {"data": found}

    return await run_expensive(request, "search", org, work)

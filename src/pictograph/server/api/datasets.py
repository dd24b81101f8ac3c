"""Routes of ``$P/datasets``: list, create, get, update, delete, archive, download listing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from pictograph.models import dump
from pictograph.server.api.bodies import DatasetCreate, DatasetUpdate
from pictograph.server.api.deps import LinksDep, OrgDep, StoreDep, envelope, paged, route
from pictograph.server.api.principal import PrincipalDep
from pictograph.server.service import datasets, insights, listings

router = APIRouter(redirect_slashes=False)


@route(router, "/datasets/", "GET", slash_twin=True)
def list_datasets(
    store: StoreDep, org: OrgDep, limit: int = 100, offset: int = 0, archived: bool = False
) -> dict[str, Any]:
    page = datasets.list_datasets(store, org, limit=limit, offset=offset, archived=archived)
    return paged(page, [dump(item) for item in page.items])


@route(router, "/datasets/", "POST", slash_twin=True, status_code=201)
def create_dataset(store: StoreDep, org: OrgDep, body: DatasetCreate) -> dict[str, Any]:
    created = datasets.create_dataset(
        store,
        org,
        name=body.name,
        description=body.description,
        readme=body.readme,
        annotation_types=body.annotation_types,
        classes=body.classes,
    )
    return envelope(dump(created))


@route(router, "/datasets/{dataset}", "GET")
def get_dataset(
    store: StoreDep,
    org: OrgDep,
    links: LinksDep,
    dataset: str,
    include_images: bool = False,
    images_limit: int = 1000,
    images_offset: int = 0,
) -> dict[str, Any]:
    if include_images:
        found = listings.dataset_with_images(
            store, org, dataset, links, limit=images_limit, offset=images_offset
        )
    else:
        found = datasets.get_dataset(store, org, dataset)
    return envelope(dump(found))


@route(router, "/datasets/{dataset}", "PATCH")
def update_dataset(
    store: StoreDep, org: OrgDep, dataset: str, body: DatasetUpdate
) -> dict[str, Any]:
    changes = datasets.DatasetChanges(
        **{name: getattr(body, name) for name in body.model_fields_set}
    )
    return envelope(dump(datasets.update_dataset(store, org, dataset, changes)))


@route(router, "/datasets/{dataset}", "DELETE")
def delete_dataset(
    store: StoreDep, org: OrgDep, principal: PrincipalDep, dataset: str, permanent: bool = False
) -> dict[str, Any]:
    """Into the trash (restorable, its name free at once); ``permanent=true``: gone now."""
    summary = datasets.delete_dataset(
        store, org, dataset, permanent=permanent, deleted_by=principal.key_id
    )
    return envelope(summary)


@route(router, "/datasets/{dataset}/archive", "POST")
def archive_dataset(store: StoreDep, org: OrgDep, dataset: str) -> dict[str, Any]:
    return envelope(dump(datasets.set_archived(store, org, dataset, True)))


@route(router, "/datasets/{dataset}/unarchive", "POST")
def unarchive_dataset(store: StoreDep, org: OrgDep, dataset: str) -> dict[str, Any]:
    return envelope(dump(datasets.set_archived(store, org, dataset, False)))


@route(router, "/datasets/{dataset}/download", "GET")
def download_listing(
    store: StoreDep,
    org: OrgDep,
    links: LinksDep,
    dataset: str,
    mode: str = "full",
    limit: int = 10000,
    status_filter: str | None = None,
) -> dict[str, Any]:
    listing = listings.download_listing(
        store, org, dataset, links, limit=limit, status_filter=status_filter
    )
    return envelope({**listing, "mode": mode})


@route(router, "/datasets/{dataset}/insights", "GET")
def dataset_insights(store: StoreDep, org: OrgDep, dataset: str) -> Any:
    return envelope(insights.insights(store, org, dataset))

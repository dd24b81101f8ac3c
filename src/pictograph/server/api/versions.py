"""Routes of ``$P/datasets/{dataset}/versions`` (our extension): frozen dataset versions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from pictograph.server.api.bodies import VersionCreate
from pictograph.server.api.deps import OrgDep, StoreDep, envelope, route
from pictograph.server.api.principal import PrincipalDep
from pictograph.server.service import versions

router = APIRouter(redirect_slashes=False)
_VERSIONS = "/datasets/{dataset}/versions"


@route(router, _VERSIONS, "POST", status_code=201)
def create_version(store: StoreDep, who: PrincipalDep, dataset: str, body: VersionCreate) -> Any:
    org = who.organization_id
    return envelope(versions.create_version(store, org, dataset, body.name, body.description))


@route(router, _VERSIONS, "GET")
def list_versions(store: StoreDep, org: OrgDep, dataset: str) -> Any:
    return envelope(versions.list_versions(store, org, dataset))


@route(router, _VERSIONS + "/{version}", "GET")
def get_version(store: StoreDep, org: OrgDep, dataset: str, version: str) -> Any:
    return envelope(versions.get_version(store, org, dataset, version))


@route(router, _VERSIONS + "/{version}", "DELETE")
def delete_version(store: StoreDep, who: PrincipalDep, dataset: str, version: str) -> Any:
    versions.delete_version(store, who.organization_id, dataset, version)
    return envelope({"deleted": True})

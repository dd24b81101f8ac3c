"""Routes of ``$P/directories``: list and tree (bare arrays), stats (bare object), create,
rename, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from pictograph.models import dump
from pictograph.server.api.bodies import DirectoryCreate, DirectoryRename
from pictograph.server.api.deps import OrgDep, StoreDep, envelope, route
from pictograph.server.service import directories

router = APIRouter(redirect_slashes=False)


@route(router, "/directories/", "POST", slash_twin=True, status_code=201)
def create_directory(store: StoreDep, org: OrgDep, body: DirectoryCreate) -> Any:
    created = directories.create_directory(store, org, body.dataset, body.directory_path)
    return envelope(dump(created))


@route(router, "/directories/{dataset}/tree", "GET")
def directory_tree(store: StoreDep, org: OrgDep, dataset: str) -> list[dict[str, Any]]:
    return [dump(node) for node in directories.tree(store, org, dataset)]


@route(router, "/directories/{dataset}/{directory_path:path}/stats", "GET")
def directory_stats(
    store: StoreDep,
    org: OrgDep,
    dataset: str,
    directory_path: str,
    include_subdirectories: bool = True,
) -> dict[str, Any]:
    found = directories.stats(store, org, dataset, directory_path, include_subdirectories)
    return dump(found)


@route(router, "/directories/{dataset}", "GET")
def list_directories(
    store: StoreDep, org: OrgDep, dataset: str, parent_path: str | None = None
) -> list[dict[str, Any]]:
    found = directories.list_directories(store, org, dataset, parent_path)
    return [dump(folder) for folder in found]


@route(router, "/directories/{dataset}/{directory_path:path}/rename", "PATCH")
def rename_directory(
    store: StoreDep, org: OrgDep, dataset: str, directory_path: str, body: DirectoryRename
) -> Any:
    renamed = directories.rename_directory(store, org, dataset, directory_path, body.new_name)
    return envelope(dump(renamed))


@route(router, "/directories/{dataset}/{directory_path:path}", "DELETE")
def delete_directory(
    store: StoreDep, org: OrgDep, dataset: str, directory_path: str, cascade: bool = False
) -> Any:
    return envelope(directories.delete_directory(store, org, dataset, directory_path, cascade))

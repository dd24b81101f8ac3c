"""Routes of ``$P/batch/images/...``: bare ``BatchResult`` bodies, as the official SDK validates."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from pictograph.server.api.bodies import (
    BatchCopy,
    BatchCopyToDataset,
    BatchDelete,
    BatchMove,
    BatchUpdate,
)
from pictograph.server.api.deps import StoreDep, route
from pictograph.server.api.principal import PrincipalDep
from pictograph.server.service import batch

router = APIRouter(redirect_slashes=False)
_P = "/batch/images"


@route(router, f"{_P}/update", "PATCH")
def update(store: StoreDep, who: PrincipalDep, body: BatchUpdate) -> Any:
    updates = body.updates.model_dump(exclude_none=True)
    org, name, ids = who.organization_id, body.dataset_name, body.image_ids
    return batch.update(store, org, name, ids, updates, body.strict)


@route(router, f"{_P}/move", "POST")
def move(store: StoreDep, who: PrincipalDep, body: BatchMove) -> Any:
    return batch.move(
        store,
        who.organization_id,
        body.dataset_name,
        body.image_ids,
        body.target_directory_path,
        body.duplicate_handling,
        body.strict,
    )


@route(router, f"{_P}/copy", "POST")
def copy(store: StoreDep, who: PrincipalDep, body: BatchCopy) -> Any:
    return batch.copy(
        store,
        who.organization_id,
        body.dataset_name,
        body.image_ids,
        body.target_directory_path,
        body.duplicate_handling,
        body.copy_annotations,
        body.strict,
    )


@route(router, f"{_P}/copy-to-dataset", "POST")
def copy_to_dataset(store: StoreDep, who: PrincipalDep, body: BatchCopyToDataset) -> Any:
    return batch.copy_to_dataset(
        store,
        who.organization_id,
        body.dataset_name,
        body.image_ids,
        body.target_dataset_name,
        body.target_directory_path,
        body.strict,
    )


@route(router, f"{_P}/delete", "POST")
def delete(store: StoreDep, who: PrincipalDep, body: BatchDelete) -> Any:
    org = who.organization_id
    return batch.delete(store, org, body.dataset_name, body.image_ids, body.permanent, body.strict)

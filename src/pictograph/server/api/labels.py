"""Labelling routes: bulk annotation saves, class rename/merge/delete, image tags, review and
splits. Bare bodies, as the official SDK reads them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from pictograph.server.api.bodies import (
    AssignSplitsBody,
    BulkAnnotationsBody,
    BulkTagBody,
    DeleteClassBody,
    MergeClassBody,
    RenameClassBody,
    ReviewBody,
    SplitBody,
)
from pictograph.server.api.deps import OrgDep, StoreDep, envelope, route
from pictograph.server.api.principal import PrincipalDep
from pictograph.server.service import annotations as image_annotations
from pictograph.server.service import class_edits, image_labels

router = APIRouter(redirect_slashes=False)


@route(router, "/annotations/bulk", "POST")
def bulk_save(store: StoreDep, who: PrincipalDep, body: BulkAnnotationsBody) -> Any:
    saves = [(item.image_id, item.annotations) for item in body.saves]
    return image_annotations.bulk_save(store, who.organization_id, saves)


@route(router, "/annotations/rename-class", "POST")
def rename_class(store: StoreDep, who: PrincipalDep, body: RenameClassBody) -> Any:
    org = who.organization_id
    return envelope(
        class_edits.rename_class(store, org, body.dataset, body.old_name, body.new_name)
    )


@route(router, "/annotations/merge-class", "POST")
def merge_class(store: StoreDep, who: PrincipalDep, body: MergeClassBody) -> Any:
    org = who.organization_id
    return envelope(
        class_edits.merge_class(store, org, body.dataset, body.source_name, body.target_name)
    )


@route(router, "/annotations/delete-class", "POST")
def delete_class(store: StoreDep, who: PrincipalDep, body: DeleteClassBody) -> Any:
    return envelope(
        class_edits.delete_class(
            store,
            who.organization_id,
            body.dataset,
            body.name,
            body.class_type,
            body.delete_annotations,
        )
    )


@route(router, "/images/bulk-tag", "POST")
def bulk_tag(store: StoreDep, who: PrincipalDep, body: BulkTagBody) -> Any:
    org = who.organization_id
    return image_labels.bulk_tag(store, org, body.dataset, body.image_ids, body.tags, body.add)


@route(router, "/images/assign-splits", "POST")
def assign_splits(store: StoreDep, who: PrincipalDep, body: AssignSplitsBody) -> Any:
    weights = (body.train, body.val, body.test)
    return image_labels.assign_splits(
        store, who.organization_id, body.dataset, weights, body.seed, body.split_mode
    )


@route(router, "/images/{dataset}/{image_path:path}/review", "POST")
def review(
    store: StoreDep, who: PrincipalDep, dataset: str, image_path: str, body: ReviewBody
) -> Any:
    org = who.organization_id
    return image_labels.review(
        store, org, dataset, image_path, body.action, body.note, who.key_name
    )


@route(router, "/images/{dataset}/{image_path:path}/split", "POST")
def set_split(
    store: StoreDep, who: PrincipalDep, dataset: str, image_path: str, body: SplitBody
) -> Any:
    return image_labels.set_split(store, who.organization_id, dataset, image_path, body.split)


@route(router, "/datasets/{dataset}/classes", "GET")
def class_counts(store: StoreDep, org: OrgDep, dataset: str) -> Any:
    """Our extension: each class with its annotation and image counts."""
    return envelope(class_edits.class_counts(store, org, dataset))

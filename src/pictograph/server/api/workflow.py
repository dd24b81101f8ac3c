"""Labelling workflow routes (our extensions): the next image of a queue, submitting an image
for review. Reviewing is the official ``POST $P/images/{dataset}/{path}/review`` (labels.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from pictograph.server.api.deps import LinksDep, StoreDep, envelope, route
from pictograph.server.api.principal import PrincipalDep
from pictograph.server.service import workflow

router = APIRouter(redirect_slashes=False)


@route(router, "/datasets/{dataset}/queue/next", "GET")
def next_in_queue(
    store: StoreDep,
    who: PrincipalDep,
    links: LinksDep,
    dataset: str,
    stage: str = "label",
    after: str | None = None,
    folder: str | None = None,
    class_name: str | None = None,
) -> Any:
    """``{"data": {"image", "remaining", "stage"}}``: the first image of the queue (``label``:
    new and annotate; ``review``: review) after ``after``, in folder-path then filename order."""
    return envelope(
        workflow.next_in_queue(
            store,
            who.organization_id,
            dataset,
            links,
            stage=stage,
            after=after,
            folder=folder,
            class_name=class_name,
        )
    )


@route(router, "/images/{dataset}/{image_path:path}/submit", "POST")
def submit(store: StoreDep, who: PrincipalDep, dataset: str, image_path: str) -> Any:
    """Status ``review``, remembering the submitting key's name."""
    org = who.organization_id
    return workflow.submit_for_review(store, org, dataset, image_path, who.key_name)

"""Routes of ``$P/annotations/{dataset}/{dir/filename}``: bare objects, stored verbatim."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from pictograph.server.api.bodies import AnnotationsBody
from pictograph.server.api.deps import OrgDep, StoreDep, route
from pictograph.server.service import annotations as image_annotations

router = APIRouter(redirect_slashes=False)
_PATH = "/annotations/{dataset}/{image_path:path}"


@route(router, _PATH, "GET")
def get_annotations(store: StoreDep, org: OrgDep, dataset: str, image_path: str) -> Any:
    return image_annotations.get_annotations(store, org, dataset, image_path)


@route(router, _PATH, "POST")
def replace_annotations(
    store: StoreDep, org: OrgDep, dataset: str, image_path: str, body: AnnotationsBody
) -> Any:
    return image_annotations.replace_annotations(store, org, dataset, image_path, body.annotations)


@route(router, _PATH, "DELETE")
def clear_annotations(store: StoreDep, org: OrgDep, dataset: str, image_path: str) -> Any:
    return image_annotations.clear_annotations(store, org, dataset, image_path)

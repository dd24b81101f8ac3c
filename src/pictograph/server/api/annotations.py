"""Routes of ``$P/annotations/{dataset}/{dir/filename}``: bare objects, stored verbatim.

GET answers the image's annotation version as an ``ETag`` (and ``version`` in the body); a POST
carrying ``If-Match`` (or ``version`` in its body) is refused with 409 when the image changed
since that version."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response

from pictograph.errors import ValidationError
from pictograph.server.api.bodies import AnnotationsBody
from pictograph.server.api.deps import OrgDep, StoreDep, route
from pictograph.server.service import annotations as image_annotations

router = APIRouter(redirect_slashes=False)
_PATH = "/annotations/{dataset}/{image_path:path}"
_ENTITY_TAG = re.compile(r'^(?:W/)?"?(\d{1,18})"?$')


def entity_tag(version: int) -> str:
    """The ``ETag`` of an image's annotations at ``version``."""
    return f'"{version}"'


def expected_version(if_match: str | None, body: AnnotationsBody) -> int | None:
    """The version a save edited: ``If-Match`` (``*`` means any), else the body's ``version``."""
    if if_match is None or if_match.strip() == "*":
        return body.version
    found = _ENTITY_TAG.match(if_match.strip())
    if found is None:
        raise ValidationError(
            f"If-Match must be an annotation ETag such as '\"3\"', got {if_match!r}"
        )
    return int(found.group(1))


@route(router, _PATH, "GET")
def get_annotations(
    store: StoreDep, org: OrgDep, dataset: str, image_path: str, response: Response
) -> Any:
    found = image_annotations.get_annotations(store, org, dataset, image_path)
    response.headers["etag"] = entity_tag(found["version"])
    return found


@route(router, _PATH, "POST")
def replace_annotations(
    store: StoreDep,
    org: OrgDep,
    dataset: str,
    image_path: str,
    body: AnnotationsBody,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> Any:
    answer = image_annotations.replace_annotations(
        store, org, dataset, image_path, body.annotations, expected_version(if_match, body)
    )
    response.headers["etag"] = entity_tag(answer["version"])
    return answer


@route(router, _PATH, "DELETE")
def clear_annotations(store: StoreDep, org: OrgDep, dataset: str, image_path: str) -> Any:
    return image_annotations.clear_annotations(store, org, dataset, image_path)

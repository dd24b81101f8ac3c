"""Image bytes for the gallery: cached thumbnails and previews, the original file, the stylesheet.

Every image route checks that the image belongs to the viewer's organisation.
"""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread
from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from pictograph.errors import NotFoundError
from pictograph.server.api.blob_responses import blob_response
from pictograph.server.api.deps import get_links, get_store
from pictograph.server.api.expensive import run_expensive
from pictograph.server.gallery import vendor
from pictograph.server.gallery.rendering import (
    EDITOR_SCRIPT,
    KEYS_SCRIPT,
    STYLESHEET,
    TRASH_SCRIPT,
    WORKFLOW_SCRIPT,
)
from pictograph.server.gallery.viewer import current_viewer
from pictograph.server.service import images, thumbnails
from pictograph.server.service.context import AppContext

router = APIRouter(include_in_schema=False)

_NOSNIFF = {"x-content-type-options": "nosniff"}


@router.get("/gallery/style.css")
def stylesheet() -> Response:
    return FileResponse(
        STYLESHEET, media_type="text/css", headers={"cache-control": "public, max-age=3600"}
    )


@router.get("/gallery/keys.js")
def keys_script() -> Response:
    """Arrow keys follow the previous/next links."""
    return _script(KEYS_SCRIPT)


@router.get("/gallery/workflow.js")
def workflow_script() -> Response:
    """Forms that call the developer API (review, submit, splits)."""
    return _script(WORKFLOW_SCRIPT)


def _script(path: Path) -> Response:
    return FileResponse(
        path,
        media_type="text/javascript",
        headers={"cache-control": "public, max-age=3600", **_NOSNIFF},
    )


@router.get("/gallery/trash.js")
def trash_script() -> Response:
    """The trash page's script: Restore buttons call the developer API."""
    return FileResponse(
        TRASH_SCRIPT,
        media_type="text/javascript",
        headers={"cache-control": "public, max-age=3600", **_NOSNIFF},
    )


@router.get("/gallery/editor.js")
def editor_script() -> Response:
    """The image page's annotation editor (it draws with the vendored Konva)."""
    return FileResponse(
        EDITOR_SCRIPT,
        media_type="text/javascript",
        headers={"cache-control": "public, max-age=3600", **_NOSNIFF},
    )


@router.get("/gallery/vendor/{name}")
def vendored(name: str) -> Response:
    """A pinned third-party file of the manifest (its name carries its version, so it is cached
    for a year); any other name is a 404."""
    path = vendor.servable(name)
    if path is None:
        return Response(status_code=404)
    media_type = "text/javascript" if name.endswith(".js") else "text/plain; charset=utf-8"
    headers = {"cache-control": "public, max-age=31536000, immutable", **_NOSNIFF}
    return FileResponse(path, media_type=media_type, headers=headers)


@router.get("/images/{image_id}/thumbnail")
async def thumbnail(request: Request, image_id: str) -> Response:
    """A JPEG of at most 256x256 pixels, made on first request and cached."""
    return await _rendition(request, image_id, thumbnails.THUMBNAIL)


@router.get("/images/{image_id}/preview")
async def preview(request: Request, image_id: str) -> Response:
    """A JPEG of at most 1280x1280 pixels (browsers cannot show every stored format, e.g. HEIC)."""
    return await _rendition(request, image_id, thumbnails.PREVIEW)


async def _rendition(request: Request, image_id: str, size: int) -> Response:
    viewer = await anyio.to_thread.run_sync(current_viewer, request)
    if viewer is None:
        return Response(status_code=401)
    store, links, organization = get_store(request), get_links(request), viewer.organization_id
    try:
        found = await run_expensive(
            request,
            "rendition",
            organization,
            lambda wanted: thumbnails.rendition(store, organization, image_id, links, size, wanted),
        )
    except NotFoundError:
        return Response(status_code=404)
    # Private: the bytes are only for this viewer's organisation; an image's bytes never change.
    headers = {"etag": found.etag, "cache-control": "private, max-age=86400", **_NOSNIFF}
    if found.url is not None:  # in the bucket: the browser fetches it from there
        return RedirectResponse(found.url, status_code=307, headers=_NOSNIFF)
    if request.headers.get("if-none-match") == found.etag:
        return Response(status_code=304, headers=headers)
    assert found.path is not None
    return FileResponse(found.path, media_type="image/jpeg", headers=headers)


@router.get("/images/{image_id}/file")
def original(request: Request, image_id: str, download: str | None = None) -> Response:
    """The stored bytes as uploaded; with ``?download=1`` as an attachment under its filename."""
    viewer = current_viewer(request)
    if viewer is None:
        return Response(status_code=401)
    store = get_store(request)
    try:
        image = images.get_by_id(store, viewer.organization_id, image_id, get_links(request))
        found = images.image_file_by_id(store, image.id)
    except NotFoundError:
        return Response(status_code=404)
    try:
        return _original(store, found, download)
    except NotFoundError:
        return Response(status_code=404)


def _original(store: AppContext, found: images.ImageFile, download: str | None) -> Response:
    headers = {
        "cache-control": "private, max-age=3600",
        "content-security-policy": "default-src 'none'; sandbox",
        **_NOSNIFF,
    }
    return blob_response(
        store,
        found,
        headers=headers,
        disposition="attachment" if download else "inline",
        redirect=True,
    )

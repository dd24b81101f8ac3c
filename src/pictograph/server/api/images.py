"""Routes of ``$P/images``: list, the upload steps, metadata by id, bytes, delete."""

from __future__ import annotations

import json
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from pictograph.errors import NotFoundError
from pictograph.models import dump
from pictograph.protocol import MAX_BATCH_FILES
from pictograph.server.api import batch_body
from pictograph.server.api.blob_responses import blob_response, disposition_header
from pictograph.server.api.bodies import (
    BulkRegisterRequest,
    BulkUploadUrlRequest,
    RegisterRequest,
    UploadUrlRequest,
    batch_manifest,
)
from pictograph.server.api.deps import LinksDep, OrgDep, StoreDep, envelope, paged, route
from pictograph.server.service import batch_uploads, bundles, images, ingest, registration, uploads
from pictograph.server.service.context import AppContext

router = APIRouter(redirect_slashes=False)


@route(router, "/images/", "GET", slash_twin=True)
def list_images(
    store: StoreDep,
    org: OrgDep,
    links: LinksDep,
    dataset: str,
    limit: int = 100,
    offset: int = 0,
    directory_path: str | None = None,
    status: str | None = None,
    split: str | None = None,
    include_archived: bool = False,
    min_confidence_lt: float | None = None,
    filename: str | None = None,
) -> dict[str, Any]:
    filters = images.ImageFilters(
        directory_path=directory_path,
        status=status,
        split=split,
        include_archived=include_archived,
        min_confidence_lt=min_confidence_lt,
        filename=filename,
    )
    page = images.list_images(store, org, dataset, filters, links, limit=limit, offset=offset)
    return paged(page, [dump(item) for item in page.items])


@route(router, "/images/names-digest", "GET")
def names_digest(store: StoreDep, org: OrgDep, dataset: str) -> Any:
    """Our extension: count and digest of every image's (folder, filename) in ``dataset``."""
    return envelope(uploads.names_digest(store, org, dataset))


@route(router, "/images/upload-url", "POST")
def upload_url(store: StoreDep, org: OrgDep, links: LinksDep, body: UploadUrlRequest) -> Any:
    target = uploads.UploadTarget(body.filename, body.directory_path, body.content_type)
    return envelope(uploads.upload_url(store, org, body.dataset, target, links))


@route(router, "/images/register", "POST", status_code=201)
def register(store: StoreDep, org: OrgDep, links: LinksDep, body: RegisterRequest) -> Any:
    entry = registration.Registration(**body.model_dump(exclude={"dataset"}))
    return envelope(
        dump(registration.register_pending_upload(store, org, body.dataset, entry, links))
    )


@route(router, "/images/bulk-upload-url", "POST")
def bulk_upload_url(
    store: StoreDep, org: OrgDep, links: LinksDep, body: BulkUploadUrlRequest
) -> Any:
    targets = [
        uploads.UploadTarget(item.filename, item.directory_path, item.content_type)
        for item in body.images
    ]
    sha256 = tuple(item.sha256 for item in body.images)
    options = uploads.UrlOptions(body.register_on_upload, body.skip_existing, sha256)
    answer = uploads.bulk_upload_urls(store, org, body.dataset, targets, links, options)
    if body.register_on_upload and "direct_upload" not in answer:
        # such tokens may also go, several at once, to the batch route
        answer["upload_batch"] = batch_uploads.limits(links)
    # Plain JSON already: skip FastAPI's per-value encoder, slow on 500-entry answers.
    return JSONResponse(envelope(answer))


@route(router, "/images/bulk-register", "POST")
def bulk_register(store: StoreDep, org: OrgDep, links: LinksDep, body: BulkRegisterRequest) -> Any:
    entries = [registration.Registration(**item.model_dump()) for item in body.images]
    result = registration.register_pending_uploads(store, org, body.dataset, entries, links)
    return envelope(dump(result))


@route(router, "/images/upload-batch", "POST", response_model=None)
async def upload_batch(request: Request, store: StoreDep, org: OrgDep, dataset: str) -> Response:
    """Our extension: several whole files into ``dataset`` in one ``multipart/form-data`` body,
    under the API key (no signed token per file). The body is a ``manifest`` field (a JSON list
    of ``{"filename", "directory_path", "content_type"}``), then one file part per entry, in
    order; at most ``MAX_BATCH_FILES`` files and ``MAX_BATCH_BYTES`` in all.

    200 with one slim result per file, in order: ``{"id", "sha256", "file_size"}`` or
    ``{"error": {code, message, status}}``; each file succeeds or fails alone. A file already
    there with the same bytes (a retry whose answer was lost) answers its image's id.
    """
    dataset_id = await anyio.to_thread.run_sync(ingest.dataset_id_of, store, org, dataset)
    parts = await batch_body.read_parts(request, MAX_BATCH_FILES + 1)  # + the manifest
    manifest, contents = batch_body.manifest_parts(parts)
    targets = batch_manifest(manifest, len(contents))
    outcomes = await anyio.to_thread.run_sync(
        ingest.ingest_into, store, dataset_id, list(zip(targets, contents, strict=True))
    )
    results = [ingest.receipt(outcome) for outcome in outcomes]
    return Response(json.dumps({"data": {"results": results}}), media_type="application/json")


@route(router, "/images/{image_id}/metadata", "GET")
def image_metadata(store: StoreDep, org: OrgDep, links: LinksDep, image_id: str) -> Any:
    try:
        return envelope(dump(images.get_by_id(store, org, image_id, links)))
    except NotFoundError:
        # Not an image id: maybe an image literally called "metadata" in dataset ``image_id``.
        try:
            return _bytes(store, org, image_id, "metadata")
        except NotFoundError:
            pass
        raise


def _bytes(store: AppContext, org: str, dataset: str, image_path: str) -> Response:
    return blob_response(store, images.image_file(store, org, dataset, image_path))


@route(router, "/images/{dataset}/{image_path:path}/data-bundle", "GET", response_model=None)
def data_bundle(store: StoreDep, org: OrgDep, dataset: str, image_path: str) -> Response:
    """Registered before the catch-all below, which would read ``…/data-bundle`` as an image."""
    try:
        name, data = bundles.build_bundle(store, org, dataset, image_path)
    except NotFoundError:
        # Not an image: maybe an image literally called "data-bundle" in folder ``image_path``.
        try:
            return _bytes(store, org, dataset, f"{image_path}/data-bundle")
        except NotFoundError:
            pass
        raise
    headers = {"Content-Disposition": disposition_header("attachment", name)}
    return Response(data, media_type="application/zip", headers=headers)


@route(router, "/images/{dataset}/{image_path:path}", "GET", response_model=None)
def image_bytes(store: StoreDep, org: OrgDep, dataset: str, image_path: str) -> Response:
    return _bytes(store, org, dataset, image_path)


@route(router, "/images/{dataset}/{image_path:path}", "DELETE")
def delete_image(
    store: StoreDep, org: OrgDep, dataset: str, image_path: str, permanent: bool = False
) -> Any:
    return envelope(images.delete_image(store, org, dataset, image_path, permanent))

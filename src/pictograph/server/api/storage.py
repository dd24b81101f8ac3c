"""Unauthenticated signed-URL routes: ``PUT /storage/upload/{token}`` and
``GET /storage/blob/{token}``."""

from __future__ import annotations

import json

import anyio
from fastapi import APIRouter, Request
from starlette.responses import Response

from pictograph.server.api import batch_body
from pictograph.server.api.blob_responses import blob_response
from pictograph.server.api.deps import StoreDep, get_links, get_store
from pictograph.server.service import batch_uploads, images, uploads

router = APIRouter(redirect_slashes=False)


async def put_upload(request: Request) -> Response:
    """Receive the bytes of one upload (streamed); 200 with their SHA-256, size and dimensions.

    A plain Starlette endpoint, not a FastAPI one: this is the hot path of every upload, and it
    needs neither dependency injection nor response-model encoding.
    """
    store = get_store(request)
    raw_length = request.headers.get("content-length")
    declared = int(raw_length) if raw_length and raw_length.isdigit() else None
    token = str(request.path_params["token"])
    receipt = await uploads.receive_upload(
        store, token, request.stream(), declared, get_links(request)
    )
    return Response(json.dumps(receipt), media_type="application/json")


router.add_route("/storage/upload/{token}", put_upload, methods=["PUT"], include_in_schema=False)


async def post_upload_batch(request: Request) -> Response:
    """Receive several files in one multipart body, each part named by its upload token.

    200 with one outcome per part, in order (see ``service.batch_uploads``); 413 for a body
    over the advertised limit, 411 without a Content-Length, 400 for a body that is not
    multipart or has too many files.
    """
    store = get_store(request)
    parts = batch_body.token_parts(await batch_body.read_parts(request))
    outcomes = await anyio.to_thread.run_sync(
        batch_uploads.receive_batch, store, parts, get_links(request)
    )
    return Response(json.dumps({"data": {"results": outcomes}}), media_type="application/json")


router.add_route(
    "/storage/upload-batch", post_upload_batch, methods=["POST"], include_in_schema=False
)


@router.get("/storage/blob/{token}", response_model=None)
def get_blob(store: StoreDep, token: str) -> Response:
    """The bytes of an image, for a signed download URL."""
    claims = uploads.verify_token(store, token, "blob")
    found = images.image_file_by_id(store, str(claims["image"]))
    return blob_response(store, found, redirect=True)

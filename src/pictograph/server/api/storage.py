"""Unauthenticated signed-URL routes: ``PUT /storage/upload/{token}`` and
``GET /storage/blob/{token}``."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from pictograph.server.api.deps import LinksDep, StoreDep
from pictograph.server.service import images, uploads

router = APIRouter(redirect_slashes=False)


@router.put("/storage/upload/{token}")
async def put_upload(
    store: StoreDep, links: LinksDep, token: str, request: Request
) -> dict[str, Any]:
    """Receive the bytes of one upload (streamed); 200 with their SHA-256, size and dimensions."""
    raw_length = request.headers.get("content-length")
    declared = int(raw_length) if raw_length and raw_length.isdigit() else None
    return await uploads.receive_upload(store, token, request.stream(), declared, links)


@router.get("/storage/blob/{token}", response_model=None)
async def get_blob(store: StoreDep, token: str) -> FileResponse:
    """The bytes of an image, for a signed download URL."""
    claims = uploads.verify_token(store, token, "blob")
    found = await anyio.to_thread.run_sync(images.image_file_by_id, store, str(claims["image"]))
    return FileResponse(found.path, media_type=found.content_type)

"""Answering with an image's stored bytes, whichever blob store holds them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import quote

from starlette.responses import RedirectResponse, Response, StreamingResponse

from pictograph.server.service import presigned
from pictograph.server.service.context import AppContext
from pictograph.server.service.images import ImageFile
from pictograph.server.store.blobs import read_chunks


def blob_response(
    store: AppContext,
    found: ImageFile,
    *,
    headers: dict[str, str] | None = None,
    disposition: str | None = None,
    redirect: bool = False,
) -> Response:
    """The bytes of ``found`` streamed from the blob store; ``disposition`` (``inline`` or
    ``attachment``) adds a Content-Disposition with the filename. ``NotFoundError`` (raised
    before answering) when the store has no such blob.

    With ``redirect``, a store clients reach directly (S3) answers with a 307 to a presigned GET
    instead, so the bytes never pass through this replica.
    """
    direct = presigned.direct_store(store)
    if redirect and direct is not None:
        url = direct.download_url(
            found.key,
            content_type=found.content_type,
            disposition=disposition_header(disposition, found.filename) if disposition else None,
            expires_in=store.settings.signed_url_ttl_seconds,
        )
        return RedirectResponse(url, status_code=307, headers={"cache-control": "no-store"})
    source = store.blobs.open(found.key)
    extra = dict(headers or {})
    extra["content-length"] = str(found.size)
    if disposition is not None:
        extra["content-disposition"] = disposition_header(disposition, found.filename)
    return StreamingResponse(_closing(source), media_type=found.content_type, headers=extra)


def archive_response(store: AppContext, key: str, filename: str) -> Response:
    """A ZIP archive's bytes streamed from the blob store, as an attachment named ``filename``."""
    source = store.blobs.open(key)
    headers = {"content-disposition": disposition_header("attachment", filename)}
    return StreamingResponse(_closing(source), media_type="application/zip", headers=headers)


def _closing(source: BinaryIO) -> Iterator[bytes]:
    with source:
        yield from read_chunks(source)


def disposition_header(kind: str, filename: str) -> str:
    """As Starlette's ``FileResponse`` writes it: plain when the name is safe, else RFC 5987."""
    quoted = quote(filename)
    if quoted != filename:
        return f"{kind}; filename*=utf-8''{quoted}"
    return f'{kind}; filename="{filename}"'

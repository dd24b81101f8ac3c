"""Answering with an image's stored bytes, whichever blob store holds them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import quote

from starlette.responses import Response, StreamingResponse

from pictograph.server.service.context import Store
from pictograph.server.service.images import ImageFile
from pictograph.server.store.blobs import read_chunks


def blob_response(
    store: Store,
    found: ImageFile,
    *,
    headers: dict[str, str] | None = None,
    disposition: str | None = None,
) -> Response:
    """The bytes of ``found`` streamed from the blob store; ``disposition`` (``inline`` or
    ``attachment``) adds a Content-Disposition with the filename. ``NotFoundError`` (raised
    before answering) when the store has no such blob."""
    source = store.blobs.open(found.key)
    extra = dict(headers or {})
    extra["content-length"] = str(found.size)
    if disposition is not None:
        extra["content-disposition"] = _disposition(disposition, found.filename)
    return StreamingResponse(_closing(source), media_type=found.content_type, headers=extra)


def _closing(source: BinaryIO) -> Iterator[bytes]:
    with source:
        yield from read_chunks(source)


def _disposition(kind: str, filename: str) -> str:
    """As Starlette's ``FileResponse`` writes it: plain when the name is safe, else RFC 5987."""
    quoted = quote(filename)
    if quoted != filename:
        return f"{kind}; filename*=utf-8''{quoted}"
    return f'{kind}; filename="{filename}"'

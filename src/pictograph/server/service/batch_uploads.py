"""Many small uploads in one request, each file named by a signed upload token: the batch route
of older clients (``POST /storage/upload-batch``). It takes the bytes of several files, each
named by the token of its upload URL (made with ``register_on_upload``), and hands them to
:func:`~pictograph.server.service.ingest.ingest`; each answer holds the whole registered image.
Clients of this release send batches under the API key instead (``POST $P/images/upload-batch``,
no token per file, a slim answer per file).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pictograph.errors import ApiError, ValidationError
from pictograph.models import dump
from pictograph.protocol import API_PREFIX, MAX_BATCH_BYTES, MAX_BATCH_FILES
from pictograph.server.service.context import AppContext, Links
from pictograph.server.service.ingest import (
    IncomingFile,
    check_batch_count,
    error_entry,
    ingest,
    too_large,
)
from pictograph.server.service.uploads import target_of, verify_token
from pictograph.server.service.views import to_image

#: The batch route under the API key (our extension), relative to the API's base URL.
API_BATCH_PATH = f"{API_PREFIX}/images/upload-batch"


@dataclass(frozen=True)
class BatchPart:
    """One part of a batch body: its form field's name, its bytes, and whether it is a file."""

    name: str
    data: bytes
    is_file: bool = True


def limits(links: Links) -> dict[str, Any]:
    """Where to send batches and how big they may be, as the bulk-upload-url answer says:
    ``url`` takes token-named parts; ``api_path`` (under the API's base URL) takes parts named
    by a manifest, under the API key."""
    return {
        "url": links.batch_upload_url(),
        "api_path": API_BATCH_PATH,
        "max_files": MAX_BATCH_FILES,
        "max_bytes": MAX_BATCH_BYTES,
    }


def receive_batch(store: AppContext, parts: list[BatchPart], links: Links) -> list[dict[str, Any]]:
    """One outcome per part, in order: ``{"image": {...}}`` or ``{"error": {code, message,
    status}}``. ``ValidationError`` only for a batch that is empty or has too many files."""
    check_batch_count(len(parts))
    outcomes: list[dict[str, Any]] = [{} for _ in parts]
    incoming: list[IncomingFile] = []
    read_at: list[int] = []
    for index, part in enumerate(parts):
        try:
            incoming.append(_read_part(store, part))
            read_at.append(index)
        except ApiError as error:
            outcomes[index] = error_entry(error)
    for index, outcome in zip(read_at, ingest(store, incoming), strict=True):
        if isinstance(outcome, ApiError):
            outcomes[index] = error_entry(outcome)
        else:
            outcomes[index] = {"image": dump(to_image(outcome, links))}
    return outcomes


def _read_part(store: AppContext, part: BatchPart) -> IncomingFile:
    """The file one part carries, as its token names it; ``ApiError`` for a bad token or size."""
    claims = verify_token(store, part.name, "upload")
    if not claims.get("register"):
        raise ValidationError(
            "this upload URL was made without register_on_upload: PUT the file to it instead"
        )
    limit = store.settings.max_upload_bytes
    if len(part.data) > limit:
        raise too_large(limit)
    return IncomingFile(str(claims["dataset"]), target_of(claims), part.data, claims.get("n"))

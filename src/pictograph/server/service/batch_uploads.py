"""Many small uploads in one request: our extension of the signed-URL PUT.

A PUT per file costs a request per file, and for a small image the request costs more than its
bytes (and counts against rate limits the same). ``POST /storage/upload-batch`` takes the bytes
of several files at once, each named by the signed token of its upload URL (made with
``register_on_upload``), stores and checks each, and registers them together, one transaction
per dataset. Each file succeeds or fails on its own; a bad one never affects the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pictograph.errors import ApiError, PayloadTooLargeError, ValidationError
from pictograph.models import dump
from pictograph.protocol import MAX_BATCH_BYTES, MAX_BATCH_FILES
from pictograph.server.service.context import AppContext, Links
from pictograph.server.service.registration import register_received_files
from pictograph.server.service.uploads import nonce_of, store_checked, target_of, verify_token


@dataclass(frozen=True)
class BatchPart:
    """One file of a batch: the signed token of its upload URL and its bytes."""

    token: str
    data: bytes


def limits(links: Links) -> dict[str, Any]:
    """Where to send batches and how big they may be, as the bulk-upload-url answer says."""
    return {
        "url": links.batch_upload_url(),
        "max_files": MAX_BATCH_FILES,
        "max_bytes": MAX_BATCH_BYTES,
    }


def receive_batch(store: AppContext, parts: list[BatchPart], links: Links) -> list[dict[str, Any]]:
    """One outcome per part, in order: ``{"image": {...}}`` or ``{"error": {code, message,
    status}}``. ``ValidationError`` only for a batch that is empty or has too many files."""
    if not parts:
        raise ValidationError("an upload batch needs at least one file")
    if len(parts) > MAX_BATCH_FILES:
        raise ValidationError(f"at most {MAX_BATCH_FILES} files per upload batch, got {len(parts)}")
    outcomes: list[dict[str, Any]] = [{} for _ in parts]
    received: list[tuple[int, str, dict[str, Any], bytes]] = []
    for index, part in enumerate(parts):
        try:
            received.append((index, *_read_part(store, part)))
        except ApiError as error:
            outcomes[index] = _error(error)
    stored = store_checked(store, [(target_of(claims), data) for _, _, claims, data in received])
    jobs: list[tuple[str, dict[str, Any]]] = []
    stored_at: list[int] = []
    for (index, dataset, claims, _), fields in zip(received, stored, strict=True):
        if isinstance(fields, ApiError):
            outcomes[index] = _error(fields)
        else:
            jobs.append((dataset, fields | nonce_of(claims)))
            stored_at.append(index)
    for index, outcome in zip(stored_at, register_received_files(store, jobs, links), strict=True):
        if isinstance(outcome, ApiError):
            outcomes[index] = _error(outcome)
        elif isinstance(outcome, Exception):
            raise outcome
        else:
            outcomes[index] = {"image": dump(outcome)}
    return outcomes


def _read_part(store: AppContext, part: BatchPart) -> tuple[str, dict[str, Any], bytes]:
    """The dataset, token claims and bytes of one part; ``ApiError`` for a bad token or size."""
    claims = verify_token(store, part.token, "upload")
    if not claims.get("register"):
        raise ValidationError(
            "this upload URL was made without register_on_upload: PUT the file to it instead"
        )
    limit = store.settings.max_upload_bytes
    if len(part.data) > limit:
        raise PayloadTooLargeError(f"the file is larger than the {limit}-byte upload limit")
    return str(claims["dataset"]), claims, part.data


def _error(error: ApiError) -> dict[str, Any]:
    return {"error": {"code": error.code, "message": error.message, "status": error.status_code}}

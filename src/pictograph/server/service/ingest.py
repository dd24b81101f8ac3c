"""``ingest``: the one way received bytes become images. It checks each file's bytes are an
image of its declared type, makes the good ones durable together (one sync round), and
registers them, one transaction per dataset. Every door that receives whole files goes through
it: the API's batch route (``POST $P/images/upload-batch``, under the API key), the signed-token
batch route (``POST /storage/upload-batch``, for older clients), and the embedded client's
in-process upload channel. Each file succeeds or fails on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pictograph.errors import ApiError, PayloadTooLargeError, ValidationError
from pictograph.protocol import MAX_BATCH_FILES
from pictograph.server.service.context import AppContext
from pictograph.server.service.registration import register_received_rows, resolve_live
from pictograph.server.service.uploads import UploadTarget, store_checked

#: The registered image's row, or why the file is not an image of the dataset.
Outcome = dict[str, Any] | ApiError


@dataclass(frozen=True)
class IncomingFile:
    """One whole file on its way in: where it goes, its bytes, and the nonce of the signed
    upload token it came with (``None`` when it came under an API key)."""

    dataset_id: str
    target: UploadTarget
    data: bytes
    nonce: str | None = None


def ingest(store: AppContext, files: Sequence[IncomingFile]) -> list[Outcome]:
    """Check, store durably and register ``files``: one outcome each, in order.

    A name already taken by an image with the same bytes is that image (a retry whose first
    answer was lost, matched by its token's nonce when it has one, else by name and SHA-256);
    by other bytes, a ``ConflictError``.
    """
    limit = store.settings.max_upload_bytes
    outcomes: list[Outcome] = [ValidationError("not ingested")] * len(files)
    checkable: list[int] = []
    for index, incoming in enumerate(files):
        if len(incoming.data) > limit:
            outcomes[index] = too_large(limit)
        else:
            checkable.append(index)
    stored = store_checked(store, [(files[i].target, files[i].data) for i in checkable])
    jobs: list[tuple[str, dict[str, Any]]] = []
    stored_at: list[int] = []
    for index, fields in zip(checkable, stored, strict=True):
        if isinstance(fields, ApiError):
            outcomes[index] = fields
        else:
            jobs.append((files[index].dataset_id, fields | {"upload_nonce": files[index].nonce}))
            stored_at.append(index)
    for index, outcome in zip(stored_at, register_received_rows(store, jobs), strict=True):
        if isinstance(outcome, Exception) and not isinstance(outcome, ApiError):
            raise outcome
        outcomes[index] = outcome
    return outcomes


def dataset_id_of(store: AppContext, organization_id: str, ref: str) -> str:
    """The id of the live dataset ``ref`` (name or id) names in this organisation;
    ``NotFoundError`` otherwise (another organisation's dataset too), saying so when it was
    deleted to the trash."""
    with store.read() as conn:
        return str(resolve_live(conn, organization_id, ref)["id"])


def ingest_into(
    store: AppContext, dataset_id: str, files: Sequence[tuple[UploadTarget, bytes]]
) -> list[Outcome]:
    """:func:`ingest` of whole files into one dataset (see :func:`dataset_id_of`), each target
    checked first, a bad one failing alone. ``ValidationError`` for an empty batch or one of
    more than ``MAX_BATCH_FILES`` files."""
    check_batch_count(len(files))
    outcomes: list[Outcome] = [ValidationError("not ingested")] * len(files)
    incoming: list[IncomingFile] = []
    placed: list[int] = []
    for index, (target, data) in enumerate(files):
        try:
            incoming.append(IncomingFile(dataset_id, target.checked(), data))
            placed.append(index)
        except ValidationError as error:
            outcomes[index] = error
    for index, outcome in zip(placed, ingest(store, incoming), strict=True):
        outcomes[index] = outcome
    return outcomes


def check_batch_count(count: int) -> None:
    """``ValidationError`` for an upload batch of no file or more than ``MAX_BATCH_FILES``."""
    if not count:
        raise ValidationError("an upload batch needs at least one file")
    if count > MAX_BATCH_FILES:
        raise ValidationError(f"at most {MAX_BATCH_FILES} files per upload batch, got {count}")


def receipt(outcome: Outcome) -> dict[str, Any]:
    """One file's slim answer: ``{"id", "sha256", "file_size"}`` of its image, or
    ``{"error": {code, message, status}}``."""
    if isinstance(outcome, ApiError):
        return error_entry(outcome)
    return {"id": outcome["id"], "sha256": outcome["sha256"], "file_size": outcome["file_size"]}


def error_entry(error: ApiError) -> dict[str, Any]:
    """A file's failure as a batch answer lists it."""
    return {"error": {"code": error.code, "message": error.message, "status": error.status_code}}


def too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(f"the file is larger than the {limit}-byte upload limit")

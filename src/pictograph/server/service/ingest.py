"""Embedded mode only: store and register files the caller names by local path, in one call.

The embedded server runs inside the caller's own process, so reading the caller's files is no
wider access than the caller already has; it spares each file the upload-URL, PUT and register
round trips. A served instance never offers this (it would let clients read the server's disk).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pictograph.errors import ValidationError
from pictograph.models import BulkUploadFailure, IngestResult
from pictograph.server.service.context import Store, check_batch_size
from pictograph.server.service.datasets import resolve
from pictograph.server.service.registration import Registration, register_received
from pictograph.server.service.uploads import UploadTarget, store_checked
from pictograph.server.store.blobs import read_chunks


@dataclass(frozen=True)
class LocalFile:
    """A file on this machine and the place in the dataset it goes to."""

    path: str
    filename: str
    directory_path: str = "/"
    content_type: str = "application/octet-stream"


def ingest_local(
    store: Store, organization_id: str, ref: str, files: list[LocalFile]
) -> IngestResult:
    """Store, check and register each file; per-file problems are reported, never raised."""
    check_batch_size(len(files))
    with store.read() as conn:
        dataset_id = str(resolve(conn, organization_id, ref)["id"])
    entries: list[Registration] = []
    received: dict[tuple[str, str], dict[str, Any]] = {}
    failed: list[BulkUploadFailure] = []
    for local in files:
        try:
            target = UploadTarget(local.filename, local.directory_path, local.content_type)
            target = target.checked()
            place = (str(target.directory_path), target.filename)
            if place in received:
                raise ValidationError(f"{local.filename} appears twice in this request")
            received[place] = _store_file(store, Path(local.path), target)
        except ValidationError as error:
            failed.append(_failure(local, error.message))
            continue
        except OSError as error:
            failed.append(_failure(local, read_error(error)))
            continue
        entries.append(Registration(filename=target.filename, directory_path=place[0]))
    result = register_received(store, dataset_id, entries, received)
    return IngestResult(registered=result.registered, failed=failed + result.failed)


def _store_file(store: Store, path: Path, target: UploadTarget) -> dict[str, Any]:
    with path.open("rb") as source:
        return store_checked(store, target, read_chunks(source))


def read_error(error: OSError) -> str:
    """Why a local file could not be read, in words."""
    if isinstance(error, PermissionError):
        return "cannot read file: permission denied"
    if isinstance(error, FileNotFoundError):
        return "file disappeared before it could be read"
    return f"cannot read file: {(error.strerror or str(error)).lower()}"


def _failure(local: LocalFile, reason: str) -> BulkUploadFailure:
    return BulkUploadFailure(
        filename=local.filename, directory_path=local.directory_path or "/", error=reason
    )

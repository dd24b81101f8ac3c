"""How an upload run's files reach the server: :class:`UploadChannel`, the steps of our upload
protocol over the client's transport (names-digest, the pre-flight, batches, PUTs, register).
An embedded client's runs use its subclass ``in_process.InProcessChannel`` instead."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pictograph._answers import data_of, parse_model, parse_models
from pictograph._upload.wire import (
    BatchReceipt,
    FolderDigest,
    RegisterItem,
    UploadBatch,
    UploadPlan,
    UploadSlot,
)
from pictograph.errors import ServerError
from pictograph.models import BulkUploadFailure, BulkUploadResult, Dataset, Image
from pictograph.protocol import API_PREFIX

if TYPE_CHECKING:
    from pictograph._transport import Transport

_API_PATH = f"{API_PREFIX}/images"


class UploadChannel:
    """Our extensions of the upload protocol, one method a step, over an HTTP transport."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def dataset(self, name: str) -> Dataset:
        """The dataset called ``name`` (what ``client.datasets.get(name)`` asks);
        ``NotFoundError`` when there is none."""
        path = f"{API_PREFIX}/datasets/{quote(name, safe='')}"
        return parse_model(Dataset, data_of(self._transport.request_json("GET", path)))

    def folder_digest(self, dataset: str) -> FolderDigest:
        """How many images ``dataset`` holds, :func:`pictograph.protocol.names_digest` of their
        (folder, filename) places and :func:`pictograph.protocol.sizes_digest` with their sizes
        (``None`` from a server without it): one request however big the dataset."""
        return folder_digest_of(
            data_of(
                self._transport.request_json(
                    "GET", f"{_API_PATH}/names-digest", params={"dataset": dataset}
                )
            )
        )

    def plan(
        self,
        dataset: str,
        items: Sequence[tuple[str, str, str]],
        *,
        register_on_upload: bool = False,
        sha256: Sequence[str | None] | None = None,
    ) -> UploadPlan:
        """The pre-flight of ``(filename, directory_path, content_type)`` items: one slot each,
        in order, saying which image is already at that name (``existing``; no URL then) and
        where to PUT a new one; with ``register_on_upload`` each PUT registers its image and the
        batch routes are offered (``batch``).

        With ``s3://`` storage the URLs go straight to the bucket (``direct``); ``sha256`` (one
        per item, hex) then binds each URL to those bytes, so the server never reads them.
        """
        images: list[dict[str, Any]] = [
            {"filename": name, "directory_path": folder, "content_type": mime}
            for name, folder, mime in items
        ]
        for image, digest in zip(images, sha256 or [], strict=False):
            if digest is not None:
                image["sha256"] = digest
        request: dict[str, Any] = {"dataset": dataset, "images": images, "skip_existing": True}
        if register_on_upload:
            request["register_on_upload"] = True
        body = data_of(
            self._transport.request_json("POST", f"{_API_PATH}/bulk-upload-url", json=request)
        )
        entries = body.get("upload_urls") if isinstance(body, Mapping) else None
        if not isinstance(entries, list) or len(entries) != len(images):
            raise ServerError("Backend response did not match expected bulk-upload-url schema")
        merged = [
            {**wanted, **entry} if isinstance(entry, Mapping) else entry
            for wanted, entry in zip(images, entries, strict=True)
        ]
        batch = body.get("upload_batch")
        return UploadPlan(
            slots=parse_models(UploadSlot, merged),
            batch=parse_model(UploadBatch, batch) if isinstance(batch, Mapping) else None,
            direct=isinstance(body.get("direct_upload"), Mapping),
        )

    def send_batch(
        self, dataset: str, batch: UploadBatch, files: Sequence[tuple[UploadSlot, bytes, str]]
    ) -> list[BatchReceipt]:
        """Several small files in one request to the batch route; one receipt each.

        ``files`` are ``(slot, bytes, content type)``, at most ``batch.max_files`` of them and
        ``batch.max_bytes`` in all, each going to its slot's folder and filename. They go under
        the API key with a manifest naming them when the server offers that route, else each
        named by its slot's token. Each receipt holds the image's id and SHA-256, or the error
        for that file alone; a failure of the whole request raises its ``ApiError``.
        """
        if batch.api_path is not None:
            manifest = [
                {"filename": s.filename, "directory_path": s.directory_path, "content_type": mime}
                for s, _, mime in files
            ]
            parts = [("file", s.filename, data, mime) for s, data, mime in files]
            url = f"{batch.api_path}?dataset={quote(dataset, safe='')}"
            answer = self._transport.post_files(
                url, parts, fields={"manifest": json.dumps(manifest)}
            )
        else:
            parts = [(s.url.rsplit("/", 1)[-1], s.filename, data, mime) for s, data, mime in files]
            answer = self._transport.post_files(batch.url, parts)
        body = data_of(answer)
        results = body.get("results") if isinstance(body, Mapping) else None
        if not isinstance(results, list) or len(results) != len(parts):
            raise ServerError("Backend response did not match expected upload-batch schema")
        return [BatchReceipt.of(result) for result in results]

    def send_file(self, dataset: str, slot: UploadSlot, path: Path, content_type: str) -> None:
        """One file, alone, to the place its slot names (a PUT to its URL, which registers it:
        the slot was made with ``register_on_upload``); its error if refused."""
        self.put_file(slot.url, path, content_type)

    def put_file(
        self,
        upload_url: str,
        path: str | Path,
        content_type: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """PUT one file's bytes to a signed upload URL (never with the API key), with the
        ``headers`` its slot names (``upload_headers``).

        Returns the server's receipt: ``sha256``, ``file_size``, ``width``, ``height``, plus the
        registered ``image`` when the URL was made with ``register_on_upload``; ``None`` from a
        bucket (a presigned URL), which answers with no body. Bytes the server refuses (not a
        valid image of their type) raise ``ValidationError`` with a ``register_on_upload`` URL;
        with another the receipt is ``{"refused": {"code", "message"}}`` and register (or
        ``register_many``) gives that error.
        """
        path = Path(path).expanduser()
        return self._transport.put_file(upload_url, path, content_type, headers=headers)

    def register_many(
        self, dataset: str, items: Sequence[RegisterItem | tuple[str, str, str]]
    ) -> BulkUploadResult:
        """Register files whose bytes were PUT, in one call; per-file refusals land in ``failed``.

        An item is a :class:`RegisterItem` (what ``describe_file`` returns) or just
        ``(filename, directory_path, content_type)``, leaving size and dimensions to the server,
        which measures the bytes it received.
        """
        images = [_register_body(item) for item in items]
        body = self._transport.request_json(
            "POST", f"{_API_PATH}/bulk-register", json={"dataset": dataset, "images": images}
        )
        return _bulk_result(body, images)


def folder_digest_of(body: Any) -> FolderDigest:
    """The :class:`FolderDigest` of a names-digest answer's data, checked."""
    if not isinstance(body, Mapping) or not isinstance(body.get("count"), int):
        raise ServerError("Backend response did not match expected names-digest schema")
    sizes = body.get("sizes_sha256")
    told = body.get("quarantined")
    quarantined = tuple(
        (str(entry["directory_path"]), str(entry["filename"]), str(entry["reason"]))
        for entry in (told if isinstance(told, list) else [])
        if isinstance(entry, Mapping)
    )
    return FolderDigest(
        count=int(body["count"]),
        names_sha256=str(body.get("names_sha256")),
        sizes_sha256=sizes if isinstance(sizes, str) else None,
        quarantined=quarantined,
    )


def _register_body(item: RegisterItem | tuple[str, str, str]) -> dict[str, Any]:
    if isinstance(item, tuple):
        filename, directory_path, content_type = item
        return {
            "filename": filename,
            "directory_path": directory_path,
            "content_type": content_type,
        }
    return dict(item)


def _failure(entry: Any, folders: Mapping[str, str]) -> Any:
    if not isinstance(entry, Mapping):
        return entry
    folder = entry.get("directory_path") or folders.get(str(entry.get("filename")), "/")
    return {**entry, "error": str(entry.get("error", "")), "directory_path": folder}


def _bulk_result(body: Any, images: list[dict[str, Any]]) -> BulkUploadResult:
    """The ``{"succeeded", "failed"}`` answer of a bulk call, checked against the models."""
    result = data_of(body, required=False)
    if not isinstance(result, Mapping):
        raise ServerError("Backend response did not match expected bulk-register schema")
    folders = {str(image["filename"]): str(image["directory_path"]) for image in images}
    failed = [
        parse_model(BulkUploadFailure, _failure(entry, folders))
        for entry in result.get("failed", [])
    ]
    return BulkUploadResult(
        succeeded=parse_models(Image, result.get("succeeded", [])), failed=failed
    )

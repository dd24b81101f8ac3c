"""Signed upload URLs and receiving the bytes PUT to them (step 1 and 2 of an upload)."""

from __future__ import annotations

import io
import secrets
from collections.abc import AsyncIterable
from dataclasses import dataclass
from typing import Any

import anyio
import sqlalchemy as sa
from itsdangerous import BadSignature, SignatureExpired

from pictograph import protocol
from pictograph.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PayloadTooLargeError,
    ValidationError,
)
from pictograph.models import dump
from pictograph.server.imaging import ImageInfo, check_content_type, inspect_image
from pictograph.server.service import bucket_check, presigned
from pictograph.server.service.context import AppContext, Links, check_batch_size, now
from pictograph.server.service.datasets import LIVE, resolve
from pictograph.server.service.paths import join, normalize_directory, validate_filename
from pictograph.server.service.registration import register_received_file
from pictograph.server.store import tables as t
from pictograph.server.store.blobs import BlobWriter, StoredBlob, write_many
from pictograph.server.stream_check import StreamCheck

_BUFFER = 1024 * 1024
_I = t.images
_P = t.pending_uploads
_R = t.refused_uploads
#: Quarantined uploads a ``names-digest`` answer tells at most.
_QUARANTINE_TOLD = 1000


@dataclass(frozen=True)
class UploadTarget:
    """Where one upload goes: a folder, a filename and the declared content type."""

    filename: str
    directory_path: str | None = "/"
    content_type: str = "application/octet-stream"

    def checked(self) -> UploadTarget:
        """The target normalised; ``ValidationError`` for a bad path, name or content type."""
        return UploadTarget(
            filename=validate_filename(self.filename),
            directory_path=normalize_directory(self.directory_path),
            content_type=check_content_type(self.content_type),
        )


def _token(
    store: AppContext,
    organization_id: str,
    dataset_id: str,
    target: UploadTarget,
    register: bool = False,
) -> str:
    claims = {
        "n": secrets.token_hex(8),
        "register": register,
        "kind": "upload",
        "org": organization_id,
        "dataset": dataset_id,
        "dir": target.directory_path,
        "file": target.filename,
        "type": target.content_type,
    }
    return str(store.signer.dumps(claims))


def verify_token(store: AppContext, token: str, kind: str) -> dict[str, Any]:
    """The claims of a signed storage token; ``ForbiddenError`` when tampered with or expired."""
    try:
        claims = store.signer.loads(token, max_age=store.settings.signed_url_ttl_seconds)
    except SignatureExpired:
        raise ForbiddenError("this signed URL has expired; ask for a new one") from None
    except BadSignature:
        raise ForbiddenError("this signed URL is not valid") from None
    if not isinstance(claims, dict) or claims.get("kind") != kind:
        raise ForbiddenError("this signed URL is not valid")
    return claims


def upload_url(
    store: AppContext, organization_id: str, ref: str, target: UploadTarget, links: Links
) -> dict[str, Any]:
    """``{"upload_url", "expires_in"}`` for one file.

    ``NotFoundError`` for an unknown dataset, ``ValidationError`` for a bad name or content type,
    ``ConflictError`` when the folder already holds that filename (archived images included).
    """
    target = target.checked()
    with store.read() as conn:
        dataset = resolve(conn, organization_id, ref)
        existing = _existing(conn, dataset["id"], [target])
    if existing:
        path = join(str(target.directory_path), target.filename)
        raise ConflictError(f"{path} already exists in dataset {dataset['name']!r}")
    answer = {
        "upload_url": "",
        "expires_in": store.settings.signed_url_ttl_seconds,
        "filename": target.filename,
        "directory_path": target.directory_path,
    }
    if (direct := presigned.direct_store(store)) is not None:  # bytes go straight to the bucket
        place = (str(target.directory_path), target.filename, target.content_type, None)
        return answer | presigned.announce(store, direct, dataset["id"], [place])[0]
    token = _token(store, organization_id, dataset["id"], target)
    return answer | {"upload_url": links.upload_url(token)}


def _existing(
    conn: sa.Connection, dataset_id: str, targets: list[UploadTarget]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Images already at the targets' (folder, filename), found with one query."""
    names = {target.filename for target in targets}
    query = sa.select(
        _I.c.id, _I.c.directory_path, _I.c.filename, _I.c.sha256, _I.c.file_size
    ).where(_I.c.dataset_id == dataset_id, _I.c.filename.in_(names))
    wanted = {(str(target.directory_path), target.filename) for target in targets}
    found = {}
    for row in conn.execute(query):
        key = (row.directory_path, row.filename)
        if key in wanted:
            found[key] = {"id": row.id, "sha256": row.sha256, "file_size": row.file_size}
    return found


def names_digest(store: AppContext, organization_id: str, ref: str) -> dict[str, Any]:
    """``{"dataset_id", "count", "names_sha256", "sizes_sha256", "quarantined"}`` of the
    (folder, filename) of every image of a dataset, archived ones too: the places
    ``bulk-upload-url`` would call taken, and the same with each image's size. One query instead
    of a pre-flight per 500 names lets a re-run of an unchanged folder skip them all.

    ``quarantined``: the uploads the background check took out of the dataset (``bucket_check``)
    whose place holds no image now, newest first (at most ``_QUARANTINE_TOLD``), each
    ``{"directory_path", "filename", "reason", "quarantined_at"}``: a re-run tells its user."""
    with store.read() as conn:
        dataset = resolve(conn, organization_id, ref)
        query = sa.select(_I.c.directory_path, _I.c.filename, _I.c.file_size).where(
            _I.c.dataset_id == dataset["id"]
        )
        rows = [(row[0], row[1], row[2]) for row in conn.execute(query)]
    places = {(folder, name) for folder, name, _ in rows}
    told = [
        {"directory_path": row["directory_path"], "filename": row["filename"],
         "reason": row["reason"], "quarantined_at": row["quarantined_at"].isoformat()}
        for row in bucket_check.quarantined(store, dataset["id"])
        if (row["directory_path"], row["filename"]) not in places
    ]  # fmt: skip
    return {
        "dataset_id": dataset["id"],
        "count": len(rows),
        "names_sha256": protocol.names_digest((folder, name) for folder, name, _ in rows),
        "sizes_sha256": protocol.sizes_digest(rows),
        "quarantined": told[:_QUARANTINE_TOLD],
    }


@dataclass(frozen=True)
class UrlOptions:
    """Our extensions of ``bulk-upload-url``, both off for the official SDK.

    ``register_on_upload``: each PUT also registers its image (no register call follows).
    ``skip_existing``: a name already taken gets ``upload_url: null`` instead of a signed token.
    """

    register_on_upload: bool = False
    skip_existing: bool = False
    #: The SHA-256 of each file when the client knows it (binds a presigned PUT to the bytes).
    sha256: tuple[str | None, ...] = ()


def bulk_upload_urls(
    store: AppContext,
    organization_id: str,
    ref: str,
    targets: list[UploadTarget],
    links: Links,
    options: UrlOptions = UrlOptions(),
) -> dict[str, Any]:
    """One entry per target, in request order, each with ``upload_url`` and ``existing``.

    ``existing`` is ``null`` or ``{"id", "sha256", "file_size"}`` of the image already there.
    """
    check_batch_size(len(targets))
    checked = []
    for index, target in enumerate(targets):
        try:
            checked.append(target.checked())
        except ValidationError as error:
            raise ValidationError(f"images[{index}]: {error.message}") from None
    with store.read() as conn:
        dataset = resolve(conn, organization_id, ref)
        existing = _existing(conn, dataset["id"], checked) if checked else {}
    entries = []
    for target in checked:
        there = existing.get((str(target.directory_path), target.filename))
        url = None
        if there is None or not options.skip_existing:
            register = options.register_on_upload
            url = links.upload_url(_token(store, organization_id, dataset["id"], target, register))
        entries.append(
            {
                "upload_url": url,
                "filename": target.filename,
                "directory_path": target.directory_path,
                "content_type": target.content_type,
                "existing": there,
            }
        )
    answer = {"upload_urls": entries, "expires_in": store.settings.signed_url_ttl_seconds}
    if (direct := presigned.direct_store(store)) is not None:  # bytes go straight to the bucket
        return presigned.direct_answer(store, direct, dataset["id"], answer, options.sha256)
    return answer


async def receive_upload(
    store: AppContext,
    token: str,
    body: AsyncIterable[bytes],
    declared_length: int | None,
    links: Links,
) -> dict[str, Any]:
    """Stream a PUT body to storage, checking as it goes that it is an image of the declared
    type, make it durable once the check passed, and keep it as the pending upload for its
    (dataset, folder, filename), or register it at once when the token asks for that (then the
    answer also carries the ``image``; 409 if the name is taken).

    Bytes that are not a valid image of the declared type are never kept (never committed):
    a body whose header already shows it is refused stops being written at once, and the rest
    of it is read without being kept, so the client gets the answer. With a
    ``register_on_upload`` token a refusal is a ``ValidationError`` (422); with a three-step
    token the answer is ``{"refused": {"code", "message"}}`` and register gives that 422
    instead (see ``_refuse``). ``ForbiddenError`` for a bad token, ``PayloadTooLargeError``
    over the size limit.
    """
    claims = verify_token(store, token, "upload")
    limit = store.settings.max_upload_bytes
    if declared_length is not None and declared_length > limit:
        raise _too_large(limit)
    spill = _Spill(store, claims["type"])
    try:
        rest = await spill.pump(body, limit)
        return await anyio.to_thread.run_sync(_finish, store, claims, spill, rest, links)
    except BaseException:
        if spill.writer is not None:
            await anyio.to_thread.run_sync(spill.writer.abort)
        raise


class _Spill:
    """Holds a body in memory, spilling to a blob writer only past ``_BUFFER`` bytes, so a small
    image costs one trip to a worker thread instead of one per step. Every spilled chunk is fed
    to the image check (``StreamCheck``) before it is written; a refusal aborts the writer
    (nothing kept) and is kept in ``refusal``."""

    def __init__(self, store: AppContext, declared_type: str) -> None:
        self.store = store
        self.declared_type = declared_type
        self.check = StreamCheck(declared_type, store.decoding)
        self.writer: BlobWriter | None = None
        self.refusal: ValidationError | None = None

    async def pump(self, body: AsyncIterable[bytes], limit: int) -> bytes:
        """Read the whole body; return what is still in memory (nothing once refused)."""
        buffer = bytearray()
        received = 0
        async for chunk in body:
            received += len(chunk)
            if received > limit:
                raise _too_large(limit)
            if self.refusal is not None:
                continue  # the rest of a refused body: read, so the client gets the answer
            buffer += chunk
            if len(buffer) >= _BUFFER:
                if self.writer is None:
                    self.writer = await anyio.to_thread.run_sync(self.store.blobs.writer)
                await anyio.to_thread.run_sync(self.write, bytes(buffer))
                buffer.clear()
        return bytes(buffer)

    def write(self, data: bytes) -> None:
        """Check, then write, the next bytes; a refusal drops the writer and what it held."""
        assert self.writer is not None
        try:
            self.check.feed(data)
        except ValidationError as error:
            self.refuse(error)
            return
        self.writer.write(data)

    def refuse(self, error: ValidationError) -> None:
        self.refusal = error
        writer, self.writer = self.writer, None
        if writer is not None:
            writer.abort()

    def finish(self, rest: bytes) -> tuple[StoredBlob, ImageInfo]:
        """Write ``rest``, finish the check, and only then commit: the blob, durable, and its
        ``ImageInfo``. A body that stayed in memory (up to ``_BUFFER``) is checked from there
        before any byte of it is written. ``ValidationError`` (``refusal`` set, nothing kept)
        when the bytes are refused."""
        if self.refusal is not None:
            raise self.refusal
        if self.writer is None:
            try:
                info = inspect_image(io.BytesIO(rest), self.declared_type, self.store.decoding)
            except ValidationError as error:
                self.refuse(error)
                raise
            self.writer = self.store.blobs.writer()
            self.writer.write(rest)
        else:
            self.write(rest)
            if self.refusal is not None:
                raise self.refusal
            try:
                info = self.check.finish(self.writer.staged)
            except ValidationError as error:
                self.refuse(error)
                raise
        blob = self.writer.commit()
        self.writer = None  # durable now: nothing left to abort
        return blob, info


def store_checked(
    store: AppContext, received: list[tuple[UploadTarget, bytes]]
) -> list[dict[str, Any] | ValidationError]:
    """Check each file's bytes are an image of its target's declared type, then store the good
    ones together, durable when this returns (one sync round for the group, see ``write_many``).

    One outcome per file, in order: the fields of the received file, or the ``ValidationError``
    saying why its bytes were refused (nothing of those is stored).
    """
    outcomes: list[dict[str, Any] | ValidationError] = []
    good: list[tuple[int, UploadTarget, bytes, ImageInfo]] = []
    for index, (target, data) in enumerate(received):
        try:
            info = inspect_image(io.BytesIO(data), target.content_type, store.decoding)
        except ValidationError as error:
            outcomes.append(error)
            continue
        outcomes.append({})
        good.append((index, target, data, info))
    blobs = write_many(store.blobs, [data for _, _, data, _ in good])
    for (index, target, _, info), blob in zip(good, blobs, strict=True):
        outcomes[index] = received_fields(
            str(target.directory_path), target.filename, target.content_type, blob, info
        )
    return outcomes


def nonce_of(claims: dict[str, Any]) -> dict[str, Any]:
    """The ``upload_nonce`` field an image registered through this token keeps."""
    return {"upload_nonce": claims.get("n")}


def target_of(claims: dict[str, Any]) -> UploadTarget:
    """The place and content type a verified upload token was made for."""
    return UploadTarget(claims["file"], claims["dir"], claims["type"])


def _finish(
    store: AppContext, claims: dict[str, Any], spill: _Spill, rest: bytes, links: Links
) -> dict[str, Any]:
    """Write the last bytes, finish the check, commit, and keep or register the blob; or
    refuse the bytes (nothing of them kept)."""
    try:
        blob, info = spill.finish(rest)
    except ValidationError as error:
        if spill.refusal is not error:
            raise
        return _refuse(store, claims, error)
    keep = _register_now if claims.get("register") else _keep_pending
    return keep(store, claims, blob, info, links)


def _too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(f"the file is larger than the {limit}-byte upload limit")


def _register_now(
    store: AppContext, claims: dict[str, Any], blob: StoredBlob, info: ImageInfo, links: Links
) -> dict[str, Any]:
    fields = received_fields(claims["dir"], claims["file"], claims["type"], blob, info)
    image = register_received_file(store, claims["dataset"], fields | nonce_of(claims), links)
    return _receipt(blob, info) | {"image": dump(image)}


def received_fields(
    directory_path: str, filename: str, content_type: str, blob: StoredBlob, info: ImageInfo
) -> dict[str, Any]:
    """Stored, checked bytes as the fields of a pending upload (and of the image it becomes)."""
    return {
        "directory_path": directory_path,
        "filename": filename,
        "blob_key": blob.key,
        "sha256": blob.sha256,
        "file_size": blob.size,
        "width": info.width,
        "height": info.height,
        "content_type": content_type,
    }


def _receipt(blob: StoredBlob, info: ImageInfo) -> dict[str, Any]:
    return {
        "sha256": blob.sha256,
        "file_size": blob.size,
        "width": info.width,
        "height": info.height,
    }


def _keep_pending(
    store: AppContext, claims: dict[str, Any], blob: StoredBlob, info: ImageInfo, _links: Links
) -> dict[str, Any]:
    """Keep checked, durable bytes as the pending upload of their place."""
    row = received_fields(claims["dir"], claims["file"], claims["type"], blob, info)
    _occupy(store, _place(claims), _P, row | {"created_at": now()}, blob.key)
    return _receipt(blob, info)


def _refuse(store: AppContext, claims: dict[str, Any], error: ValidationError) -> dict[str, Any]:
    """Bytes the check refused (none of them kept): the ``ValidationError`` itself for a
    ``register_on_upload`` token; otherwise keep why, for the register that follows
    (``refused_uploads``, in place of the place's pending upload).

    A refusal is a 200 whose receipt says ``refused``: the official SDK raises a bare
    "Upload failed: HTTP 422" for a refused PUT without reading its body, but prints the error
    message of register, so register is where the three-step flow learns the reason.
    """
    if claims.get("register"):
        raise error
    refusal = {"code": error.code or "validation_error", "reason": error.message}
    _occupy(store, _place(claims), _R, refusal | {"created_at": now()})
    return {"refused": {"code": refusal["code"], "message": error.message}}


def _place(claims: dict[str, Any]) -> dict[str, Any]:
    return {
        "dataset_id": claims["dataset"],
        "directory_path": claims["dir"],
        "filename": claims["file"],
    }


def _occupy(
    store: AppContext,
    key: dict[str, Any],
    table: sa.Table,
    row: dict[str, Any],
    blob_key: str | None = None,
) -> None:
    """Make ``row`` the one record of the place ``key`` names, in ``table`` (pending or refused
    uploads): the place's earlier pending upload (its blob deleted once committed) or refusal
    goes, so the latest PUT is what register finds.

    ``NotFoundError`` (``blob_key`` deleted) when the dataset is no longer live.
    """
    with store.write() as conn:
        live = sa.select(t.datasets.c.id).where(t.datasets.c.id == key["dataset_id"], LIVE)
        if conn.execute(live).first() is None:
            if blob_key is not None:
                store.blobs.delete(blob_key)
            raise NotFoundError("the dataset of this upload no longer exists")
        at_pending = [_P.c[name] == value for name, value in key.items()]
        stale = conn.execute(sa.select(_P.c.blob_key).where(*at_pending)).scalar_one_or_none()
        conn.execute(_P.delete().where(*at_pending))
        conn.execute(_R.delete().where(*[_R.c[name] == value for name, value in key.items()]))
        conn.execute(table.insert().values(key | row))
    if stale is not None:
        store.blobs.delete(stale)

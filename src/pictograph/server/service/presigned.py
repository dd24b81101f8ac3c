"""Uploads straight to the bucket: presigned PUT URLs, and the checks an object passes before it
is registered (with ``s3://`` storage; a local store has no presigned URLs).

An upload URL is announced as a pending upload with no size or SHA-256 yet; ``settle`` (called by
register) looks at the object with one HEAD: its size and the SHA-256 the bucket verified on
arrival. Then, by how the URL was made:

- **Bound to a SHA-256** (our SDK binds one, after running the server's own check on the file
  before sending it): the bucket refused any other bytes, so the object is registered on the
  strength of that checksum without a byte of it reaching the replica, marked ``unchecked``. A
  replica's background worker reads it whole later, off the request (``bucket_check``), and
  quarantines it if it is not a whole image: a client that lies about its check loses the file,
  never the dataset's integrity.
- **Not bound** (the official SDK, any client that sends no checksum): the object is read once,
  whole, by the replica, hashed and checked as bytes PUT to a replica are (``inspect_image``), so
  a truncated file is refused at register and never becomes an image.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from pictograph.errors import ApiError, NotFoundError, ValidationError
from pictograph.server.imaging import DecodeBudget, ImageInfo, inspect_image
from pictograph.server.service.context import AppContext, now
from pictograph.server.service.datasets import resolve
from pictograph.server.service.paths import normalize_directory, validate_filename
from pictograph.server.store import tables as t
from pictograph.server.store.blobs import DirectBlobStore, read_chunks

if TYPE_CHECKING:
    from pictograph.server.service.registration import Registration

_P = t.pending_uploads
#: Objects checked at once by one register call.
_CHECKERS = 16
#: The header a PUT carries for a URL bound to the bytes' SHA-256.
CHECKSUM_HEADER = "x-amz-checksum-sha256"

Place = tuple[str, str]


def direct_store(store: AppContext) -> DirectBlobStore | None:
    """The blob store when clients upload to it directly, else ``None``."""
    blobs = store.blobs
    return blobs if isinstance(blobs, DirectBlobStore) else None


def announce(
    store: AppContext,
    blobs: DirectBlobStore,
    dataset_id: str,
    targets: Sequence[tuple[str, str, str, str | None]],
) -> list[dict[str, Any]]:
    """Presigned PUTs for ``(directory_path, filename, content_type, sha256 or None)`` targets
    (checked already), each recorded as the pending upload of its name, replacing an earlier one
    (whose object is deleted). One ``{"upload_url", "upload_headers"}`` per target, in order."""
    if not targets:  # every name was taken: no key to reserve (an empty insert is refused)
        return []
    ttl = store.settings.signed_url_ttl_seconds
    stamp = now()
    rows, answers = [], []
    keys = blobs.new_keys(len(targets))
    for key, (directory, filename, content_type, sha256) in zip(keys, targets, strict=True):
        url = blobs.upload_url(key, content_type=content_type, sha256=sha256, expires_in=ttl)
        headers = {"Content-Type": content_type}
        if sha256 is not None:
            headers[CHECKSUM_HEADER] = base64.b64encode(bytes.fromhex(sha256)).decode()
        answers.append({"upload_url": url, "upload_headers": headers})
        rows.append(
            {
                "dataset_id": dataset_id,
                "directory_path": directory,
                "filename": filename,
                "blob_key": key,
                "sha256": None,
                "file_size": None,
                "content_type": content_type,
                "declared_sha256": sha256,
                "created_at": stamp,
            }
        )
    if rows:
        stale = _replace_pending(store, dataset_id, rows)
        _delete_quietly(blobs, stale)
    return answers


def direct_answer(
    store: AppContext,
    blobs: DirectBlobStore,
    dataset_id: str,
    answer: dict[str, Any],
    sha256: Sequence[str | None],
) -> dict[str, Any]:
    """A ``bulk-upload-url`` answer with presigned PUTs in place of the replica's own URLs.

    Each entry that has a URL gets one straight to the bucket and the ``upload_headers`` its
    PUT must carry; ``direct_upload`` tells our SDK to register with ``bulk-register`` after
    (a PUT to the bucket registers nothing). ``sha256[i]``, when given, binds entry ``i``'s URL
    to those bytes. ``ValidationError`` for a malformed SHA-256.
    """
    entries = answer["upload_urls"]
    wanted = []
    for index, entry in enumerate(entries):
        if entry["upload_url"] is None:
            continue
        given = sha256[index] if index < len(sha256) else None
        try:
            checked = check_sha256(given)
        except ValidationError as error:
            raise ValidationError(f"images[{index}]: {error.message}") from None
        wanted.append(
            (index, (entry["directory_path"], entry["filename"], entry["content_type"], checked))
        )
    made = announce(store, blobs, dataset_id, [target for _, target in wanted])
    for (index, _), urls in zip(wanted, made, strict=True):
        entries[index] = entries[index] | urls
    return answer | {"direct_upload": {"register": "bulk-register"}}


def download_url(store: AppContext, image: Any) -> str | None:
    """A presigned GET of an image row's bytes straight from the bucket; ``None`` when the
    store is not reached directly (the replica's own signed URL serves them then)."""
    blobs = direct_store(store)
    if blobs is None:
        return None
    return blobs.download_url(
        image["blob_key"],
        content_type=image["content_type"] or "application/octet-stream",
        disposition=None,
        expires_in=store.settings.signed_url_ttl_seconds,
    )


def check_sha256(value: str | None) -> str | None:
    """A client's SHA-256 (64 hex digits, any case) in lower case; ``ValidationError`` else."""
    if value is None:
        return None
    lowered = value.strip().lower()
    if len(lowered) != 64 or any(c not in "0123456789abcdef" for c in lowered):
        raise ValidationError(f"sha256 must be 64 hexadecimal digits, got {value!r}")
    return lowered


def settle(
    store: AppContext, organization_id: str, ref: str, entries: Sequence[Registration]
) -> dict[Place, ApiError]:
    """Check the objects of the announced uploads ``entries`` name; fill in the pending upload
    of each good one (size, SHA-256, dimensions), and drop each bad one (row and object).

    Returns why each bad one was refused, by (folder, filename): the same 422s as bytes PUT to
    a replica. Nothing to do (``{}``) unless the store takes uploads directly.
    """
    blobs = direct_store(store)
    if blobs is None:
        return {}
    places = _places(entries)
    if not places:
        return {}
    with store.read() as conn:
        dataset_id = resolve(conn, organization_id, ref)["id"]
        query = sa.select(_P).where(
            _P.c.dataset_id == dataset_id,
            _P.c.filename.in_({name for _, name in places}),
            _P.c.sha256.is_(None),
        )
        rows = [dict(r._mapping) for r in conn.execute(query)]
    rows = [row for row in rows if (row["directory_path"], row["filename"]) in places]
    if not rows:
        return {}
    with ThreadPoolExecutor(max_workers=min(_CHECKERS, len(rows))) as pool:
        outcomes = list(pool.map(lambda row: _checked(store, blobs, row), rows))
    good = [
        (row, found) for row, found in zip(rows, outcomes, strict=True) if isinstance(found, dict)
    ]
    bad = [
        (row, found)
        for row, found in zip(rows, outcomes, strict=True)
        if isinstance(found, ApiError)
    ]
    _record(store, dataset_id, good, [row for row, _ in bad])
    _delete_quietly(blobs, [row["blob_key"] for row, _ in bad])
    return {(row["directory_path"], row["filename"]): error for row, error in bad}


def _places(entries: Sequence[Registration]) -> set[Place]:
    places = set()
    for entry in entries:
        try:
            places.add(
                (normalize_directory(entry.directory_path), validate_filename(entry.filename))
            )
        except ValidationError:
            continue  # registration reports it
    return places


def _checked(
    store: AppContext, blobs: DirectBlobStore, row: dict[str, Any]
) -> dict[str, Any] | ApiError:
    """The verified fields of an announced upload's object, or why it is refused (not naming
    the file: the register request or its failed entry does): its size and the bucket's
    checksum from a HEAD; then, for a URL bound to a SHA-256 the bucket verified, nothing more
    (``unchecked``: the background check reads it), else every byte read once, hashed and
    checked."""
    key, content_type = row["blob_key"], row["content_type"]
    try:
        facts = blobs.facts(key)
    except NotFoundError:
        return ValidationError("no bytes were uploaded: PUT the file to its upload_url first")
    limit = store.settings.max_upload_bytes
    if facts.size == 0:
        return ValidationError("file is empty (0 bytes)")
    if facts.size > limit:
        return ValidationError(f"the file is larger than the {limit}-byte upload limit")
    declared = row.get("declared_sha256")
    if declared is not None and facts.sha256 == declared:
        return {"sha256": declared, "file_size": facts.size, "width": None, "height": None,
                "unchecked": True}  # fmt: skip
    try:
        sha256, info = _read_whole(blobs, key, content_type, store.decoding)
    except ValidationError as error:
        return error
    except NotFoundError:
        return ValidationError("the uploaded object disappeared before it was checked")
    if (facts.sha256 or declared) not in (None, sha256):
        return ValidationError("the object does not match the checksum it was sent with")
    return {"sha256": sha256, "file_size": facts.size, "width": info.width,
            "height": info.height, "unchecked": False}  # fmt: skip


def _read_whole(
    blobs: DirectBlobStore, key: str, content_type: str, budget: DecodeBudget
) -> tuple[str, ImageInfo]:
    """Read the object once, hashing it and checking it whole (``inspect_image``)."""
    digest = hashlib.sha256()
    with blobs.open(key) as source:
        for chunk in read_chunks(source):
            digest.update(chunk)
        return digest.hexdigest(), inspect_image(source, content_type, budget)


def _record(
    store: AppContext,
    dataset_id: str,
    good: list[tuple[dict[str, Any], dict[str, Any]]],
    bad: list[dict[str, Any]],
) -> None:
    """Fill in the checked uploads and drop the refused ones, each only if not replaced since."""
    same = (
        _P.c.dataset_id == dataset_id,
        _P.c.directory_path == sa.bindparam("p"),
        _P.c.filename == sa.bindparam("f"),
        _P.c.blob_key == sa.bindparam("k"),
    )

    def where(row: dict[str, Any]) -> dict[str, Any]:
        return {"p": row["directory_path"], "f": row["filename"], "k": row["blob_key"]}

    with store.write() as conn:
        if good:
            update = (
                _P.update()
                .where(*same)
                .values(
                    sha256=sa.bindparam("s"),
                    file_size=sa.bindparam("n"),
                    width=sa.bindparam("w"),
                    height=sa.bindparam("h"),
                    unchecked=sa.bindparam("u"),
                )
            )
            conn.execute(
                update,
                [
                    where(row)
                    | {"s": f["sha256"], "n": f["file_size"], "w": f["width"], "h": f["height"]}
                    | {"u": f["unchecked"]}
                    for row, f in good
                ],
            )
        if bad:
            conn.execute(_P.delete().where(*same), [where(row) for row in bad])


def _replace_pending(store: AppContext, dataset_id: str, rows: list[dict[str, Any]]) -> list[str]:
    """Insert the announced ``rows``, replacing pending uploads of the same names; the blob keys
    of those replaced."""
    places = {(row["directory_path"], row["filename"]) for row in rows}
    with store.write() as conn:
        query = sa.select(_P.c.directory_path, _P.c.filename, _P.c.blob_key).where(
            _P.c.dataset_id == dataset_id, _P.c.filename.in_({name for _, name in places})
        )
        stale = [r for r in conn.execute(query) if (r.directory_path, r.filename) in places]
        if stale:
            conn.execute(
                _P.delete().where(
                    _P.c.dataset_id == dataset_id,
                    _P.c.directory_path == sa.bindparam("p"),
                    _P.c.filename == sa.bindparam("f"),
                ),
                [{"p": r.directory_path, "f": r.filename} for r in stale],
            )
        latest = {(row["directory_path"], row["filename"]): row for row in rows}
        conn.execute(_P.insert(), list(latest.values()))
    replaced = [
        row["blob_key"]
        for row in rows
        if latest[(row["directory_path"], row["filename"])] is not row
    ]
    return [r.blob_key for r in stale] + replaced


def _delete_quietly(blobs: DirectBlobStore, keys: Sequence[str]) -> None:
    """Delete objects nobody will register; one that cannot be deleted now is left to gc."""
    for key in keys:
        with contextlib.suppress(Exception):  # an orphan is harmless, and gc finds it later
            blobs.delete(key)

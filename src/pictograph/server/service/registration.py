"""Turning uploaded bytes into images, named by what they take.

- ``register_pending_upload`` / ``register_pending_uploads``: the official three-step flow's
  ``register`` and ``bulk-register``, which find the bytes an earlier PUT left as a *pending
  upload* for (dataset, folder, filename).
- ``register_received_file`` / ``register_received_rows``: bytes this request just received and
  stored (a register-on-upload PUT, one part of a batch), registered without a pending row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from pictograph.errors import ApiError, ConflictError, NotFoundError, ValidationError
from pictograph.models import BulkUploadFailure, BulkUploadResult, Image
from pictograph.server.service import presigned
from pictograph.server.service.context import AppContext, Links, check_batch_size, new_id, now
from pictograph.server.service.datasets import LIVE, resolve
from pictograph.server.service.directories import ensure_folders
from pictograph.server.service.paths import join, normalize_directory, validate_filename
from pictograph.server.service.views import to_image
from pictograph.server.store import tables as t
from pictograph.server.store.constraints import is_foreign_key_violation

_I = t.images
_P = t.pending_uploads
_R = t.refused_uploads


@dataclass(frozen=True)
class Registration:
    """What register sends: the file's place, plus the size the client measured."""

    filename: str
    directory_path: str | None = "/"
    width: int | None = None
    height: int | None = None
    file_size: int | None = None
    content_type: str | None = None


@dataclass
class _Batch:
    """Outcome of one registration batch, in request order."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    failures: list[tuple[int, str, str, ApiError]] = field(default_factory=list)
    stale_blobs: list[str] = field(default_factory=list)
    consumed: list[dict[str, Any]] = field(default_factory=list)


def register_pending_upload(
    store: AppContext, organization_id: str, ref: str, entry: Registration, links: Links
) -> Image:
    """Turn the pending upload at (folder, filename) into an image with status ``new``.

    ``ValidationError`` when no bytes were PUT first or the bytes PUT were refused (with the
    reason the PUT recorded), ``ConflictError`` when the name is taken, ``NotFoundError`` for
    an unknown dataset.
    """
    refused = presigned.settle(store, organization_id, ref, [entry])
    if refused:
        raise next(iter(refused.values()))
    result = _register_pending(store, organization_id, ref, [entry])
    if result.failures:
        raise result.failures[0][3]
    return to_image(result.rows[0], links)


def register_pending_uploads(
    store: AppContext, organization_id: str, ref: str, entries: list[Registration], links: Links
) -> BulkUploadResult:
    """Register many files in one transaction; per-file problems are reported, never raised."""
    check_batch_size(len(entries))
    refused = presigned.settle(store, organization_id, ref, entries)
    result = _register_pending(store, organization_id, ref, entries)
    result.failures = [(i, f, d, refused.get((d, f), e)) for i, f, d, e in result.failures]
    return _outcome(result, links)


def _outcome(batch: _Batch, links: Links) -> BulkUploadResult:
    return BulkUploadResult(
        succeeded=[to_image(row, links) for row in batch.rows], failed=_failures(batch)
    )


def _failures(batch: _Batch) -> list[BulkUploadFailure]:
    return [
        BulkUploadFailure(filename=name, directory_path=path, error=error.message)
        for _, name, path, error in batch.failures
    ]


def register_received_file(
    store: AppContext, dataset_id: str, fields: dict[str, Any], links: Links
) -> Image:
    """Register one stored file; ``ConflictError`` (its blob deleted) when the name is taken.

    Concurrent calls are committed together (see ``group_commit``).
    """
    committer = store.group_commit("register", lambda jobs: _register_received_group(store, jobs))
    row: dict[str, Any] = committer.submit((dataset_id, fields))
    return to_image(row, links)


def register_received_rows(
    store: AppContext, jobs: Sequence[tuple[str, dict[str, Any]]]
) -> list[dict[str, Any] | Exception]:
    """Register stored, checked files, each ``(dataset_id, received fields)``, one transaction
    per dataset: the image's row or the error (a ``ConflictError`` for a taken name) of each, in
    order."""
    return _register_received_group(store, jobs)


def _register_received_group(
    store: AppContext, jobs: Sequence[tuple[str, dict[str, Any]]]
) -> list[dict[str, Any] | Exception]:
    """Register a group of stored files, one transaction per dataset; a row or error each."""
    outcomes: list[dict[str, Any] | Exception] = [ValidationError("not registered")] * len(jobs)
    by_dataset: dict[str, list[int]] = {}
    for index, (dataset_id, _) in enumerate(jobs):
        by_dataset.setdefault(dataset_id, []).append(index)
    for dataset_id, indexes in by_dataset.items():
        entries = [_entry_of(jobs[i][1]) for i in indexes]
        received = {_place_of(jobs[i][1]): jobs[i][1] for i in indexes}
        if len(received) < len(indexes):  # the same name twice: no sharing, one at a time
            for i in indexes:
                outcomes[i] = _register_received_group(store, [jobs[i]])[0]
            continue
        batch = _register_received(store, dataset_id, entries, received)
        rows = {(r["directory_path"], r["filename"]): r for r in batch.rows}
        errors = {(path, name): error for _, name, path, error in batch.failures}
        rows |= _replayed(store, dataset_id, {p: received[p] for p in errors if p in received})
        for i in indexes:
            place = _place_of(jobs[i][1])
            outcomes[i] = rows.get(place) or errors.get(place) or outcomes[i]
    return outcomes


def _replayed(
    store: AppContext, dataset_id: str, refused: dict[tuple[str, str], dict[str, Any]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The images that refused uploads had already become: same place, same bytes, and the
    same upload URL when the upload came with one (a file sent under the API key has none).

    A client that retries after losing the answer sends the same file again; it gets the image
    its first attempt registered, so its report stays true. (The retry's bytes were dropped.)
    """
    if not refused:
        return {}
    names = {name for _, name in refused}
    query = sa.select(_I).where(_I.c.dataset_id == dataset_id, _I.c.filename.in_(names))
    with store.read() as conn:
        found = [dict(row._mapping) for row in conn.execute(query)]
    replays = {}
    for row in found:
        place = (row["directory_path"], row["filename"])
        sent = refused.get(place)
        if sent is None or sent["sha256"] != row["sha256"]:
            continue
        if sent.get("upload_nonce") in (None, row["upload_nonce"]):
            replays[place] = row
    return replays


def _entry_of(fields: dict[str, Any]) -> Registration:
    return Registration(filename=fields["filename"], directory_path=fields["directory_path"])


def _place_of(fields: dict[str, Any]) -> tuple[str, str]:
    return (str(fields["directory_path"]), str(fields["filename"]))


def _register_received(
    store: AppContext,
    dataset_id: str,
    entries: list[Registration],
    received: dict[tuple[str, str], dict[str, Any]],
) -> _Batch:
    batch = _Batch()
    with store.write() as conn:
        if _still_live(conn, dataset_id):
            places = _places(entries, batch)
            taken = _taken(conn, dataset_id, [place for _, place in places])
            _plan(dataset_id, entries, places, received, taken, batch)
            _insert_with_folders(conn, dataset_id, batch)
        else:
            _all_failed(entries, received, batch)
    store.on_stored([row["id"] for row in batch.rows])
    for key in batch.stale_blobs:
        store.blobs.delete(key)
    batch.failures.sort(key=lambda failure: failure[0])
    return batch


def dataset_deleted() -> NotFoundError:
    """The failure of a file whose dataset was deleted while it was on its way."""
    return NotFoundError("dataset was deleted while this file was being uploaded")


def _still_live(conn: sa.Connection, dataset_id: str) -> bool:
    """Whether the dataset is still live, its row locked for the rest of the transaction (on
    PostgreSQL; SQLite's write lock is already ours), so a delete waits for this registration
    or comes first and is seen here: never a file registered into a deleted dataset."""
    query = sa.select(t.datasets.c.id).where(t.datasets.c.id == dataset_id, LIVE)
    return conn.execute(query.with_for_update()).first() is not None


def _all_failed(
    entries: list[Registration], received: dict[tuple[str, str], dict[str, Any]], batch: _Batch
) -> None:
    """Every entry failed because its dataset is gone; their stored bytes go too."""
    for index, (folder, filename) in enumerate(received):
        batch.failures.append((index, filename, folder, dataset_deleted()))
    batch.stale_blobs += [fields["blob_key"] for fields in received.values()]


def resolve_live(conn: sa.Connection, organization_id: str, ref: str) -> dict[str, Any]:
    """The live dataset ``ref`` names; one in the trash is ``dataset_deleted`` (a 404 whose
    reason says it was deleted, for an upload that began before)."""
    try:
        return resolve(conn, organization_id, ref)
    except NotFoundError:
        named = sa.or_(t.datasets.c.name == ref, t.datasets.c.id == ref)
        trashed = sa.select(t.datasets.c.id).where(
            t.datasets.c.organization_id == organization_id, named, ~LIVE
        )
        if conn.execute(trashed).first() is not None:
            raise dataset_deleted() from None
        raise


def _live(conn: sa.Connection, organization_id: str, ref: str) -> dict[str, Any]:
    """:func:`resolve_live`, locked as ``_still_live`` does."""
    dataset = resolve_live(conn, organization_id, ref)
    if not _still_live(conn, dataset["id"]):
        raise dataset_deleted()
    return dataset


def _insert_with_folders(conn: sa.Connection, dataset_id: str, batch: _Batch) -> None:
    for directory in sorted({row["directory_path"] for row in batch.rows}):
        ensure_folders(conn, dataset_id, directory)
    _insert(conn, batch)


def _register_pending(
    store: AppContext, organization_id: str, ref: str, entries: list[Registration]
) -> _Batch:
    batch = _Batch()
    with store.write() as conn:
        dataset = _live(conn, organization_id, ref)
        places = _places(entries, batch)
        wanted = [place for _, place in places]
        pending, taken = _lookups(conn, dataset["id"], wanted)
        # Only a place without bytes can have a refusal (a PUT keeps one or the other).
        refused = _refusals(conn, dataset["id"], [p for p in wanted if p not in pending])
        _plan(dataset["id"], entries, places, pending, taken, batch, refused)
        _insert_with_folders(conn, dataset["id"], batch)
        _consume_refusals(conn, dataset["id"], refused)
        if batch.consumed:
            conn.execute(
                _P.delete().where(
                    _P.c.dataset_id == sa.bindparam("d"),
                    _P.c.directory_path == sa.bindparam("p"),
                    _P.c.filename == sa.bindparam("f"),
                ),
                batch.consumed,
            )
    store.on_stored([row["id"] for row in batch.rows])
    for key in batch.stale_blobs:
        store.blobs.delete(key)
    batch.failures.sort(key=lambda failure: failure[0])
    return batch


def _places(entries: list[Registration], batch: _Batch) -> list[tuple[int, tuple[str, str]]]:
    """Normalised (folder, filename) per valid entry; invalid ones become failures."""
    places = []
    for index, entry in enumerate(entries):
        try:
            place = (normalize_directory(entry.directory_path), validate_filename(entry.filename))
        except ValidationError as error:
            batch.failures.append((index, entry.filename, entry.directory_path or "/", error))
            continue
        places.append((index, place))
    return places


def _lookups(
    conn: sa.Connection, dataset_id: str, places: list[tuple[str, str]]
) -> tuple[dict[tuple[str, str], dict[str, Any]], set[tuple[str, str]]]:
    """Pending uploads and existing images for the batch's names: one query each."""
    names = {name for _, name in places}
    wanted = set(places)
    if not names:
        return {}, set()
    # An announced upload (presigned, not yet checked: no SHA-256) has no bytes to register.
    pending_rows = conn.execute(
        sa.select(_P).where(
            _P.c.dataset_id == dataset_id, _P.c.filename.in_(names), _P.c.sha256.is_not(None)
        )
    )
    pending = {(r.directory_path, r.filename): dict(r._mapping) for r in pending_rows}
    return {k: v for k, v in pending.items() if k in wanted}, _taken(conn, dataset_id, places)


def _refusals(
    conn: sa.Connection, dataset_id: str, places: list[tuple[str, str]]
) -> dict[tuple[str, str], ValidationError]:
    """Why the bytes PUT for each of the places were refused, where they were (one query):
    the 422 a three-step PUT recorded instead of answering it (``uploads._refuse``)."""
    if not places:
        return {}
    rows = conn.execute(
        sa.select(_R.c.directory_path, _R.c.filename, _R.c.code, _R.c.reason).where(
            _R.c.dataset_id == dataset_id, _R.c.filename.in_({name for _, name in places})
        )
    )
    wanted = set(places)
    return {
        (row.directory_path, row.filename): ValidationError(row.reason, code=row.code)
        for row in rows
        if (row.directory_path, row.filename) in wanted
    }


def _consume_refusals(
    conn: sa.Connection, dataset_id: str, refused: dict[tuple[str, str], ValidationError]
) -> None:
    """A refusal is told once: register reported it (or a conflict that outranks it)."""
    if refused:
        conn.execute(
            _R.delete().where(
                _R.c.dataset_id == dataset_id,
                _R.c.directory_path == sa.bindparam("p"),
                _R.c.filename == sa.bindparam("f"),
            ),
            [{"p": directory, "f": filename} for directory, filename in refused],
        )


def _taken(
    conn: sa.Connection, dataset_id: str, places: list[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which of the (folder, filename) places already hold an image."""
    if not places:
        return set()
    existing = conn.execute(
        sa.select(_I.c.directory_path, _I.c.filename).where(
            _I.c.dataset_id == dataset_id, _I.c.filename.in_({name for _, name in places})
        )
    )
    return {(r.directory_path, r.filename) for r in existing} & set(places)


def _plan(
    dataset_id: str,
    entries: list[Registration],
    places: list[tuple[int, tuple[str, str]]],
    pending: dict[tuple[str, str], dict[str, Any]],
    taken: set[tuple[str, str]],
    batch: _Batch,
    refused: dict[tuple[str, str], ValidationError] | None = None,
) -> None:
    """Sort the entries into image rows and failures; ``refused`` says why the bytes PUT for a
    place were refused, told instead of "no bytes were uploaded"."""
    stamp = now()
    seen: set[tuple[str, str]] = set()
    for index, place in places:
        directory, filename = place
        upload = pending.get(place)
        error: ApiError | None = None
        if place in taken or place in seen:
            error = ConflictError(f"{join(directory, filename)} already exists in this dataset")
        elif upload is None and refused and place in refused:
            error = refused[place]
        elif upload is None:
            error = ValidationError(
                f"no bytes were uploaded for {join(directory, filename)}: "
                "PUT the file to its upload_url first"
            )
        if error is not None:
            batch.failures.append((index, filename, directory, error))
            if upload is not None and place not in seen:
                batch.stale_blobs.append(upload["blob_key"])
                batch.consumed.append({"d": dataset_id, "p": directory, "f": filename})
            continue
        assert upload is not None
        seen.add(place)
        batch.consumed.append({"d": dataset_id, "p": directory, "f": filename})
        batch.rows.append(
            _image_row(dataset_id, entries[index], upload, stamp + timedelta(microseconds=index))
        )


def _image_row(
    dataset_id: str, entry: Registration, upload: dict[str, Any], stamp: Any
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "dataset_id": dataset_id,
        "directory_path": upload["directory_path"],
        "filename": upload["filename"],
        "file_size": upload["file_size"],
        "width": upload["width"] if upload["width"] is not None else entry.width,
        "height": upload["height"] if upload["height"] is not None else entry.height,
        "content_type": upload["content_type"] or entry.content_type,
        "sha256": upload["sha256"],
        "blob_key": upload["blob_key"],
        "status": "new",
        "split": None,
        "tags": [],
        "annotations": [],
        "annotation_count": 0,
        "min_confidence": None,
        "is_archived": False,
        "created_at": stamp,
        "updated_at": stamp,
        "upload_nonce": upload.get("upload_nonce"),
        "unchecked": bool(upload.get("unchecked")),
    }


def _insert(conn: sa.Connection, batch: _Batch) -> None:
    """Insert all rows at once; if a concurrent writer took a name, retry row by row."""
    if not batch.rows:
        return
    try:
        with conn.begin_nested():
            conn.execute(_I.insert(), batch.rows)
        return
    except sa.exc.IntegrityError:
        pass
    kept = []
    for row in batch.rows:
        try:
            with conn.begin_nested():
                conn.execute(_I.insert().values(**row))
            kept.append(row)
        except sa.exc.IntegrityError as failure:
            if is_foreign_key_violation(failure):
                raise dataset_deleted() from failure
            path = join(row["directory_path"], row["filename"])
            error = ConflictError(f"{path} already exists in this dataset")
            batch.stale_blobs.append(row["blob_key"])
            batch.failures.append((len(kept), row["filename"], row["directory_path"], error))
    batch.rows = kept

"""Batch operations on images of one dataset: status, move, copy, copy to another dataset,
archive, restore, permanent delete. Each is one transaction: every named image is handled, or
(when one of them is not in the dataset, or a move would land on a taken name) none is.

Concurrency (PostgreSQL): an operation first locks the rows of the datasets it touches (in id
order), then its images (in id order), so batch operations on a dataset run one at a time and
never wait on each other crosswise; one the database still aborts (a deadlock with another kind
of write) runs again (``retry_transient``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import sqlalchemy as sa

from pictograph.errors import ConflictError, NotFoundError, ValidationError
from pictograph.server.service import images
from pictograph.server.service.blob_owners import release
from pictograph.server.service.context import (
    AppContext,
    new_id,
    now,
    retry_transient,
    row_dict,
)
from pictograph.server.service.datasets import resolve
from pictograph.server.service.directories import ensure_folders
from pictograph.server.service.paths import canonical_uuid, is_uuid, join, normalize_directory
from pictograph.server.store import tables as t
from pictograph.server.store.blobs import read_chunks

_I = t.images
MAX_IDS = 10_000
STATUSES = ("new", "annotate", "review", "complete")
DUPLICATE_RULES = ("rename", "skip", "overwrite")
MOVE_RULES = ("rename", "fail")


@dataclass
class Outcome:
    """The bare ``BatchResult`` the SDK validates."""

    processed: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    directories: set[str] = field(default_factory=set)
    renamed: int = 0
    operation: str | None = None

    def wire(self) -> dict[str, Any]:
        return {
            "success": not self.failed,
            "processed": self.processed,
            "failed": self.failed,
            "affected_directories": sorted(self.directories),
            "renamed": self.renamed,
            "operation": self.operation,
        }


def _lock(conn: sa.Connection, organization_id: str, *refs: str) -> list[dict[str, Any]]:
    """The datasets ``refs`` name, their rows locked for the rest of the transaction (in id
    order) and read again once locked."""
    ids = sorted({resolve(conn, organization_id, ref)["id"] for ref in refs})
    for dataset_id in ids:
        locked = sa.select(t.datasets.c.id).where(t.datasets.c.id == dataset_id)
        conn.execute(locked.with_for_update())
    return [resolve(conn, organization_id, ref) for ref in refs]


def _images(
    conn: sa.Connection, organization_id: str, ref: str, image_ids: list[str], strict: bool
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, str]]]:
    """The dataset, its rows for ``image_ids`` in request order (archived ones included), and a
    ``failed`` entry for each id that is not an image of this dataset (unknown, in another
    dataset, or in another organisation), as the reference answers them in a 200.

    With ``strict`` (our option) such an id is a ``NotFoundError`` instead, listing each one,
    and nothing is touched.
    """
    if len(image_ids) > MAX_IDS:
        raise ValidationError(f"at most {MAX_IDS} images per request, got {len(image_ids)}")
    if not image_ids:
        raise ValidationError("image_ids is empty")
    (dataset,) = _lock(conn, organization_id, ref)
    wanted = list(dict.fromkeys(canonical_uuid(i) if is_uuid(i) else i for i in image_ids))
    query = sa.select(_I).where(_I.c.dataset_id == dataset["id"]).order_by(_I.c.id)
    query = query.with_for_update()
    rows: dict[str, dict[str, Any]] = {}
    valid = sorted(i for i in wanted if is_uuid(i))
    for start in range(0, len(valid), 500):
        chunk = valid[start : start + 500]
        rows |= {row.id: row_dict(row) for row in conn.execute(query.where(_I.c.id.in_(chunk)))}
    reason = f"image not found in dataset {dataset['name']!r}"
    failed = [{"id": i, "reason": reason} for i in wanted if i not in rows]
    if failed and strict:
        raise NotFoundError(
            f"{len(failed)} of the {len(wanted)} images are not in dataset {dataset['name']!r}; "
            "nothing was changed",
            details={"failed": failed},
        )
    return dataset, [rows[i] for i in wanted if i in rows], failed


def _names(conn: sa.Connection, dataset_id: str, folder: str) -> dict[str, str]:
    """Filename -> image id of every image (archived too) in ``folder``."""
    query = sa.select(_I.c.filename, _I.c.id).where(
        _I.c.dataset_id == dataset_id, _I.c.directory_path == folder
    )
    return {row.filename: row.id for row in conn.execute(query)}


def free_name(name: str, taken: dict[str, str] | set[str]) -> str:
    """``name`` with the first free ``-1``, ``-2``, ... before its suffix (a.png -> a-1.png)."""
    path = PurePosixPath(name)
    number = 1
    while (candidate := f"{path.stem}-{number}{path.suffix}") in taken:
        number += 1
    return candidate


@retry_transient
def update(
    store: AppContext,
    organization_id: str,
    ref: str,
    image_ids: list[str],
    updates: dict[str, Any],
    strict: bool = False,
) -> dict[str, Any]:
    """Set ``status`` and/or ``is_archived`` (False restores); ``display_name`` is accepted and
    not stored. ``ValidationError`` for an unknown status or no field at all."""
    values: dict[str, Any] = {}
    if updates.get("status") is not None:
        if updates["status"] not in STATUSES:
            raise ValidationError(
                f"status {updates['status']!r} is not allowed: use one of {', '.join(STATUSES)}",
                status_code=400,
            )
        values["status"] = updates["status"]
    if updates.get("is_archived") is not None:
        values["is_archived"] = bool(updates["is_archived"])
        if not values["is_archived"]:
            values["deleted_at"] = None  # restored: out of the trash too
    if not values and updates.get("display_name") is None:
        raise ValidationError("updates needs status, display_name or is_archived")
    outcome = Outcome()
    with store.write() as conn:
        _, rows, outcome.failed = _images(conn, organization_id, ref, image_ids, strict)
        if values:
            ids = [row["id"] for row in rows]
            for start in range(0, len(ids), 500):
                where = _I.c.id.in_(ids[start : start + 500])
                conn.execute(_I.update().where(where).values(**values, updated_at=now()))
        outcome.processed = len(rows)
        outcome.directories = {row["directory_path"] for row in rows}
    return outcome.wire()


@retry_transient
def delete(
    store: AppContext,
    organization_id: str,
    ref: str,
    image_ids: list[str],
    permanent: bool,
    strict: bool = False,
) -> dict[str, Any]:
    """Archive the images (restorable with ``update(is_archived=False)``), or with ``permanent``
    remove rows and bytes."""
    outcome = Outcome(operation="deleted" if permanent else "archived")
    unused: list[str] = []
    with store.write() as conn:
        _, rows, outcome.failed = _images(conn, organization_id, ref, image_ids, strict)
        if permanent:
            unused = images.drop_images(conn, rows)
        else:  # a deliberate archive: not in the trash, never expires
            ids = [row["id"] for row in rows]
            for start in range(0, len(ids), 500):
                where = _I.c.id.in_(ids[start : start + 500])
                conn.execute(_I.update().where(where).values(is_archived=True, updated_at=now()))
    images.delete_blobs(store, unused)
    outcome.processed = len(rows)
    outcome.directories = {row["directory_path"] for row in rows}
    return outcome.wire()


@retry_transient
def move(
    store: AppContext,
    organization_id: str,
    ref: str,
    image_ids: list[str],
    target: str,
    duplicate_handling: str = "rename",
    strict: bool = False,
) -> dict[str, Any]:
    """Move images to folder ``target`` (created with its parents); no bytes move.

    A name already taken there gets the first free ``-n`` suffix, as the official SDK documents;
    with ``duplicate_handling="fail"`` (our option) it is a ``ConflictError`` listing each such
    image, and nothing moves.
    """
    if duplicate_handling not in MOVE_RULES:
        raise ValidationError(f"duplicate_handling must be one of {', '.join(MOVE_RULES)}")
    folder = normalize_directory(target)
    outcome = Outcome()
    with store.write() as conn:
        dataset, rows, outcome.failed = _images(conn, organization_id, ref, image_ids, strict)
        ensure_folders(conn, dataset["id"], folder)
        taken = _names(conn, dataset["id"], folder)
        moving = [row for row in rows if row["directory_path"] != folder]
        clashes, plan = [], []
        for row in moving:
            name = row["filename"]
            if name in taken:
                if duplicate_handling != "rename":
                    clashes.append({"id": row["id"], "reason": f"{join(folder, name)} exists"})
                    continue
                name = free_name(name, taken)
                outcome.renamed += 1
            taken[name] = row["id"]
            plan.append((row, name))
        if clashes:
            raise ConflictError(
                f"{len(clashes)} image(s) would land on a name already in {folder}; "
                "nothing was moved",
                details={"failed": clashes},
            )
        for row, name in plan:
            values = {"directory_path": folder, "filename": name, "updated_at": now()}
            conn.execute(_I.update().where(_I.c.id == row["id"]).values(**values))
            outcome.directories.add(row["directory_path"])
    outcome.processed = len(rows)
    outcome.directories.add(folder)
    return outcome.wire()


@contextmanager
def _copied_blobs(
    store: AppContext, organization_id: str, ref: str, image_ids: list[str], strict: bool
) -> Iterator[dict[str, str]]:
    """Each image's bytes copied to a blob of its own, before the transaction that adds the
    copies (a blob is never written inside one, see ``AppContext``): image id -> the copy's key.
    The block takes (``pop``) the copies it uses; the rest, or all when it fails, are deleted."""
    with store.read() as conn:
        _, rows, _failed = _images(conn, organization_id, ref, image_ids, strict)
    copies: dict[str, str] = {}
    made: list[str] = []
    try:
        for row in rows:
            with store.blobs.open(row["blob_key"]) as source:
                made.append(store.blobs.write_stream(read_chunks(source)).key)
            copies[row["id"]] = made[-1]
        yield copies
    except BaseException:
        for key in made:
            store.blobs.delete(key)
        raise
    for key in copies.values():  # not used (skipped)
        store.blobs.delete(key)


def _copy_row(
    row: dict[str, Any], copies: dict[str, str], place: tuple[str, str, str]
) -> dict[str, Any]:
    dataset_id, folder, name = place
    stamp = now()
    return {**row, "id": new_id(), "dataset_id": dataset_id, "directory_path": folder,
            "filename": name, "blob_key": copies.pop(row["id"]), "created_at": stamp,
            "updated_at": stamp, "upload_nonce": None}  # fmt: skip


def _clean(copy: dict[str, Any]) -> dict[str, Any]:
    """A copy that starts unlabelled: status new, no annotations, tags or split."""
    return {**copy, "status": "new", "annotations": [], "annotation_count": 0,
            "min_confidence": None, "tags": [], "split": None, "review_note": None,
            "labelled_by": None, "reviewed_by": None}  # fmt: skip


@retry_transient
def copy(
    store: AppContext,
    organization_id: str,
    ref: str,
    image_ids: list[str],
    target: str,
    duplicate_handling: str = "rename",
    copy_annotations: bool = False,
    strict: bool = False,
) -> dict[str, Any]:
    """Copy images (new ids, their own copy of the bytes) into folder ``target`` of the same
    dataset. A taken name is renamed ``-n``, skipped (listed in ``failed``) or overwritten."""
    if duplicate_handling not in DUPLICATE_RULES:
        raise ValidationError(f"duplicate_handling must be one of {', '.join(DUPLICATE_RULES)}")
    folder = normalize_directory(target)
    outcome = Outcome()
    replaced: list[str] = []
    with (
        _copied_blobs(store, organization_id, ref, image_ids, strict) as copies,
        store.write() as conn,
    ):
        dataset, rows, outcome.failed = _images(conn, organization_id, ref, image_ids, strict)
        ensure_folders(conn, dataset["id"], folder)
        taken = _names(conn, dataset["id"], folder)
        sources = {row["id"] for row in rows}
        for row in rows:
            name = row["filename"]
            if name in taken and duplicate_handling == "skip":
                outcome.failed.append({"id": row["id"], "reason": f"{join(folder, name)} exists"})
                continue
            if name in taken and (duplicate_handling == "rename" or taken[name] in sources):
                name = free_name(name, taken)
                outcome.renamed += 1
            elif name in taken:
                old = conn.execute(sa.select(_I.c.blob_key).where(_I.c.id == taken[name]))
                replaced.append(old.scalar_one())
                conn.execute(_I.delete().where(_I.c.id == taken[name]))
            new = _copy_row(row, copies, (dataset["id"], folder, name))
            conn.execute(_I.insert().values(**(new if copy_annotations else _clean(new))))
            taken[name] = new["id"]
            outcome.processed += 1
    release(store, replaced)
    outcome.directories = {folder}
    return outcome.wire()


@retry_transient
def copy_to_dataset(
    store: AppContext,
    organization_id: str,
    ref: str,
    image_ids: list[str],
    target_ref: str,
    target: str,
    strict: bool = False,
) -> dict[str, Any]:
    """Copy images, with annotations, tags, split and status, into a folder of another dataset
    of the organisation; taken names get ``-n``. Classes the copies use and the target lacks are
    added to it (``classes_added``)."""
    folder = normalize_directory(target)
    outcome = Outcome(operation="copied")
    with (
        _copied_blobs(store, organization_id, ref, image_ids, strict) as copies,
        store.write() as conn,
    ):
        _lock(conn, organization_id, ref, target_ref)
        _source, rows, outcome.failed = _images(conn, organization_id, ref, image_ids, strict)
        destination = resolve(conn, organization_id, target_ref)
        ensure_folders(conn, destination["id"], folder)
        taken = _names(conn, destination["id"], folder)
        for row in rows:
            name = row["filename"]
            if name in taken:
                name = free_name(name, taken)
                outcome.renamed += 1
            new = _copy_row(row, copies, (destination["id"], folder, name))
            conn.execute(_I.insert().values(**new))
            taken[name] = new["id"]
            outcome.processed += 1
        added = _add_classes(conn, _source, destination, rows)
    outcome.directories = {folder}
    return {**outcome.wire(), "target_dataset": destination["name"], "classes_added": added}


def _add_classes(
    conn: sa.Connection, source: dict[str, Any], target: dict[str, Any], rows: list[dict[str, Any]]
) -> list[str]:
    have = {item["name"] for item in target["classes"] or []}
    definitions = {item["name"]: item for item in source["classes"] or []}
    used = [a["name"] for row in rows for a in row["annotations"] or [] if isinstance(a, dict)]
    added = [name for name in dict.fromkeys(used) if isinstance(name, str) and name not in have]
    if added:
        classes = list(target["classes"] or []) + [definitions.get(n, {"name": n}) for n in added]
        conn.execute(
            t.datasets.update()
            .where(t.datasets.c.id == target["id"])
            .values(classes=classes, updated_at=now())
        )
    return added

"""Virtual folders: listed with counts, renamed and deleted; bytes never move."""

from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa

from pictograph.errors import ConflictError, NotFoundError, ValidationError
from pictograph.models import Directory, DirectoryStats, DirectoryTreeNode
from pictograph.server.service.context import AppContext, new_id, now, row_dict
from pictograph.server.service.datasets import resolve
from pictograph.server.service.paths import (
    join,
    normalize_directory,
    parent_of,
    validate_folder_name,
)
from pictograph.server.service.views import to_directory, to_tree_node
from pictograph.server.store import tables as t

_F = t.directories
_I = t.images


def in_subtree(column: sa.ColumnElement[str], path: str) -> sa.ColumnElement[bool]:
    """SQL test: ``column`` is ``path`` or lies below it (no LIKE, so no escaping pitfalls)."""
    if path == "/":
        return sa.true()
    prefix = path + "/"
    return sa.or_(column == path, sa.func.substr(column, 1, len(prefix)) == prefix)


def _below(path: str, candidate: str) -> bool:
    return path == "/" or candidate == path or candidate.startswith(path + "/")


def ensure_folders(conn: sa.Connection, dataset_id: str, path: str) -> str | None:
    """Create the folder ``path`` and its missing parents; the folder's id (``None`` for root)."""
    if path == "/":
        return None
    segments = path.strip("/").split("/")
    wanted = ["/" + "/".join(segments[: i + 1]) for i in range(len(segments))]
    query = sa.select(_F.c.full_path, _F.c.id).where(
        _F.c.dataset_id == dataset_id, _F.c.full_path.in_(wanted)
    )
    known = {row.full_path: row.id for row in conn.execute(query)}
    parent_id: str | None = None
    for folder in wanted:
        if folder not in known:
            known[folder] = _insert_folder(conn, dataset_id, folder, parent_id)
        parent_id = known[folder]
    return parent_id


def _insert_folder(conn: sa.Connection, dataset_id: str, path: str, parent_id: str | None) -> str:
    folder_id, stamp = new_id(), now()
    values = {
        "id": folder_id,
        "dataset_id": dataset_id,
        "full_path": path,
        "name": path.rsplit("/", 1)[1],
        "parent_directory_id": parent_id,
        "created_at": stamp,
        "updated_at": stamp,
    }
    try:
        with conn.begin_nested():
            conn.execute(_F.insert().values(**values))
    except sa.exc.IntegrityError:  # another request created it first
        query = sa.select(_F.c.id).where(_F.c.dataset_id == dataset_id, _F.c.full_path == path)
        return str(conn.execute(query).scalar_one())
    return folder_id


def _image_counts(conn: sa.Connection, dataset_id: str) -> Counter[str]:
    query = (
        sa.select(_I.c.directory_path, sa.func.count())
        .where(_I.c.dataset_id == dataset_id, _I.c.is_archived == sa.false())
        .group_by(_I.c.directory_path)
    )
    return Counter({path: int(count) for path, count in conn.execute(query).tuples()})


def _views(conn: sa.Connection, dataset: dict[str, Any]) -> list[Directory]:
    rows = conn.execute(
        sa.select(_F).where(_F.c.dataset_id == dataset["id"]).order_by(_F.c.full_path)
    )
    numbers = _image_counts(conn, dataset["id"])
    result = []
    for row in rows:
        path = row.full_path
        nested = sum(count for other, count in numbers.items() if _below(path, other))
        result.append(to_directory(row._mapping, dataset["organization_id"], numbers[path], nested))
    return result


def list_directories(
    store: AppContext, organization_id: str, ref: str, parent_path: str | None
) -> list[Directory]:
    """Every folder of the dataset, or only the direct children of ``parent_path`` when given."""
    with store.read() as conn:
        dataset = resolve(conn, organization_id, ref)
        folders = _views(conn, dataset)
    if parent_path is None:
        return folders
    parent = normalize_directory(parent_path)
    return [folder for folder in folders if parent_of(folder.full_path) == parent]


def tree(store: AppContext, organization_id: str, ref: str) -> list[DirectoryTreeNode]:
    """Root-level folders with their subfolders nested under ``children``."""
    with store.read() as conn:
        folders = _views(conn, resolve(conn, organization_id, ref))
    by_parent: dict[str, list[Directory]] = {}
    for folder in folders:
        by_parent.setdefault(parent_of(folder.full_path), []).append(folder)

    def build(path: str) -> list[DirectoryTreeNode]:
        return [to_tree_node(f, build(f.full_path)) for f in by_parent.get(path, [])]

    return build("/")


def stats(
    store: AppContext, organization_id: str, ref: str, path: str, include_subdirectories: bool
) -> DirectoryStats:
    """Image, byte and folder totals for ``path`` (and its subtree when asked)."""
    path = normalize_directory(path)
    with store.read() as conn:
        dataset = resolve(conn, organization_id, ref)
        if path != "/":
            _folder(conn, dataset["id"], path)
        where = _F.c.dataset_id == dataset["id"]
        in_scope = (
            in_subtree(_I.c.directory_path, path)
            if include_subdirectories
            else _I.c.directory_path == path
        )
        query = (
            sa.select(
                _I.c.status, sa.func.count(), sa.func.coalesce(sa.func.sum(_I.c.file_size), 0)
            )
            .where(_I.c.dataset_id == dataset["id"], _I.c.is_archived == sa.false(), in_scope)
            .group_by(_I.c.status)
        )
        by_status = {status: (int(n), int(size)) for status, n, size in conn.execute(query)}
        folders = 1
        if include_subdirectories:
            below = sa.and_(where, in_subtree(_F.c.full_path, path), _F.c.full_path != path)
            count = sa.select(sa.func.count()).select_from(_F).where(below)
            folders += int(conn.execute(count).scalar_one())
    return DirectoryStats(
        total_directories=folders,
        total_images=sum(n for n, _ in by_status.values()),
        total_size_bytes=sum(size for _, size in by_status.values()),
        directories_by_status={status: n for status, (n, _) in by_status.items()},
    )


def _folder(conn: sa.Connection, dataset_id: str, path: str) -> dict[str, Any]:
    query = sa.select(_F).where(_F.c.dataset_id == dataset_id, _F.c.full_path == path)
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"folder {path!r} not found")
    return row_dict(row)


def _one_view(conn: sa.Connection, dataset: dict[str, Any], path: str) -> Directory:
    return next(f for f in _views(conn, dataset) if f.full_path == path)


def _not_root(path: str, action: str) -> None:
    if path == "/":
        raise ValidationError(f"cannot {action} the root folder '/'", status_code=400)


def create_directory(store: AppContext, organization_id: str, ref: str, path: str) -> Directory:
    """Create ``path`` and its parents; an existing folder is returned as is. ``/`` gives 400."""
    path = normalize_directory(path)
    _not_root(path, "create")
    with store.write() as conn:
        dataset = resolve(conn, organization_id, ref)
        ensure_folders(conn, dataset["id"], path)
        return _one_view(conn, dataset, path)


def rename_directory(
    store: AppContext, organization_id: str, ref: str, path: str, new_name: str
) -> Directory:
    """Rename the folder's last segment, rewriting descendant folders and image paths.

    ``NotFoundError`` for an unknown folder, ``ConflictError`` when a sibling has ``new_name``.
    """
    path = normalize_directory(path)
    _not_root(path, "rename")
    new_name = validate_folder_name(new_name)
    target = join(parent_of(path), new_name)
    with store.write() as conn:
        dataset = resolve(conn, organization_id, ref)
        folder = _folder(conn, dataset["id"], path)
        if target != path:
            if _exists(conn, dataset["id"], target):
                raise ConflictError(f"folder {target!r} already exists")
            _move_subtree(conn, dataset["id"], path, target)
            stamp = now()
            conn.execute(
                _F.update().where(_F.c.id == folder["id"]).values(name=new_name, updated_at=stamp)
            )
        return _one_view(conn, dataset, target)


def _exists(conn: sa.Connection, dataset_id: str, path: str) -> bool:
    folder = sa.select(_F.c.id).where(_F.c.dataset_id == dataset_id, _F.c.full_path == path)
    image = sa.select(_I.c.id).where(
        _I.c.dataset_id == dataset_id, in_subtree(_I.c.directory_path, path)
    )
    return (
        conn.execute(folder).first() is not None or conn.execute(image.limit(1)).first() is not None
    )


def _move_subtree(conn: sa.Connection, dataset_id: str, old: str, new: str) -> None:
    """Rewrite ``old`` and every path below it to start with ``new`` (folders and images)."""
    cut = len(old) + 1
    for table, column in ((_F, _F.c.full_path), (_I, _I.c.directory_path)):
        conn.execute(
            table.update()
            .where(table.c.dataset_id == dataset_id, in_subtree(column, old))
            .values({column.name: sa.literal(new) + sa.func.substr(column, cut)})
        )


def delete_directory(
    store: AppContext, organization_id: str, ref: str, path: str, cascade: bool
) -> dict[str, Any]:
    """Delete an empty folder, or with ``cascade`` first move its images to the parent.

    ``NotFoundError`` for an unknown folder; 400 ``ValidationError`` when it has subfolders, or
    images without ``cascade``; ``ConflictError`` when a moved image's name is taken in the parent.
    """
    path = normalize_directory(path)
    _not_root(path, "delete")
    with store.write() as conn:
        dataset = resolve(conn, organization_id, ref)
        folder = _folder(conn, dataset["id"], path)
        if conn.execute(sa.select(_F.c.id).where(_F.c.parent_directory_id == folder["id"])).first():
            raise ValidationError(f"folder {path!r} has subfolders", status_code=400)
        here = _I.c.dataset_id == dataset["id"], _I.c.directory_path == path
        names = list(conn.execute(sa.select(_I.c.filename).where(*here)).scalars())
        if names and not cascade:
            raise ValidationError(
                f"folder {path!r} holds {len(names)} images: pass cascade=true to move them",
                status_code=400,
            )
        parent = parent_of(path)
        if names:
            _check_free(conn, dataset["id"], parent, names)
            conn.execute(_I.update().where(*here).values(directory_path=parent))
        conn.execute(_F.delete().where(_F.c.id == folder["id"]))
    return {"deleted": True, "full_path": path, "images_moved": len(names), "moved_to": parent}


def _check_free(conn: sa.Connection, dataset_id: str, path: str, names: list[str]) -> None:
    query = sa.select(_I.c.filename).where(
        _I.c.dataset_id == dataset_id, _I.c.directory_path == path, _I.c.filename.in_(names)
    )
    taken = list(conn.execute(query).scalars())
    if taken:
        raise ConflictError(f"{join(path, taken[0])} already exists in the parent folder")

"""Renaming, merging and deleting a dataset's classes, with the stored annotations rewritten in
the same transaction (so ``annotation_count`` and the class list always agree)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from pictograph.errors import ConflictError, NotFoundError
from pictograph.server.service.annotations import changed_values
from pictograph.server.service.classes import key_of
from pictograph.server.service.context import AppContext, now
from pictograph.server.service.datasets import resolve
from pictograph.server.store import tables as t

_I = t.images
_PAGE = 500
#: Given an image's annotations: the new list and how many annotations changed.
Rewrite = Callable[[list[Any]], tuple[list[Any], int]]


def _rewrite_images(conn: sa.Connection, dataset_id: str, rewrite: Rewrite) -> tuple[int, int]:
    """Apply ``rewrite`` to every labelled image of the dataset: (images, annotations) changed."""
    images = annotations = 0
    last = ""
    where = (_I.c.dataset_id == dataset_id, _I.c.annotation_count > 0)
    while True:
        query = sa.select(_I.c.id, _I.c.annotations).where(*where, _I.c.id > last)
        rows = conn.execute(query.order_by(_I.c.id).limit(_PAGE)).all()
        for row in rows:
            new, changed = rewrite(list(row.annotations or []))
            if changed:
                images += 1
                annotations += changed
                conn.execute(_I.update().where(_I.c.id == row.id).values(**changed_values(new)))
        if len(rows) < _PAGE:
            return images, annotations
        last = rows[-1].id


def _renamer(old: str, new: str) -> Rewrite:
    def rewrite(items: list[Any]) -> tuple[list[Any], int]:
        hits = sum(1 for a in items if isinstance(a, dict) and a.get("name") == old)
        return [_renamed(a, old, new) for a in items], hits

    return rewrite


def _renamed(item: Any, old: str, new: str) -> Any:
    return {**item, "name": new} if isinstance(item, dict) and item.get("name") == old else item


def _save_classes(conn: sa.Connection, dataset_id: str, classes: list[dict[str, Any]]) -> None:
    values = {"classes": classes, "updated_at": now()}
    conn.execute(t.datasets.update().where(t.datasets.c.id == dataset_id).values(**values))


def _classes(classes: list[dict[str, Any]], name: str, dataset: str) -> list[dict[str, Any]]:
    """Every class called ``name`` (one per type); ``NotFoundError`` when there is none."""
    found = [item for item in classes if item["name"] == name]
    if not found:
        raise NotFoundError(f"dataset {dataset!r} has no class {name!r}")
    return found


def rename_class(
    store: AppContext, organization_id: str, ref: str, old_name: str, new_name: str
) -> dict[str, Any]:
    """Rename a class and its annotations. ``NotFoundError`` when there is no such class,
    ``ConflictError`` when a class of that name and type exists."""
    with store.write() as conn:
        dataset = resolve(conn, organization_id, ref)
        classes = list(dataset["classes"] or [])
        sources = _classes(classes, old_name, dataset["name"])
        # Annotations name their class by name: every type of it is renamed with them.
        taken = {key_of(c) for c in classes if c["name"] == new_name}
        clash = [c for c in sources if (new_name, key_of(c)[1]) in taken]
        if clash:
            raise ConflictError(
                f"a {clash[0].get('type')} class called {new_name!r} already exists"
            )
        classes = [{**c, "name": new_name} if c["name"] == old_name else c for c in classes]
        _save_classes(conn, dataset["id"], classes)
        images, changed = _rewrite_images(conn, dataset["id"], _renamer(old_name, new_name))
    return {
        "dataset_id": dataset["id"],
        "old_name": old_name,
        "new_name": new_name,
        "images_updated": images,
        "annotations_updated": changed,
        "config_updated": True,
    }


def merge_class(
    store: AppContext, organization_id: str, ref: str, source_name: str, target_name: str
) -> dict[str, Any]:
    """Give the source class's annotations the target's name and drop the source class.
    ``NotFoundError`` when either class is missing."""
    with store.write() as conn:
        dataset = resolve(conn, organization_id, ref)
        classes = list(dataset["classes"] or [])
        _classes(classes, source_name, dataset["name"])
        _classes(classes, target_name, dataset["name"])
        _save_classes(conn, dataset["id"], [c for c in classes if c["name"] != source_name])
        images, changed = _rewrite_images(conn, dataset["id"], _renamer(source_name, target_name))
    return {
        "dataset_id": dataset["id"],
        "source_name": source_name,
        "target_name": target_name,
        "images_updated": images,
        "annotations_updated": changed,
        "config_updated": True,
    }


def delete_class(
    store: AppContext,
    organization_id: str,
    ref: str,
    name: str,
    class_type: str | None,
    delete_annotations: bool,
) -> dict[str, Any]:
    """Remove the class (only the one of ``class_type`` when given) and, when asked, its
    annotations. ``NotFoundError`` when no class matches."""

    def matches(item: dict[str, Any]) -> bool:
        return item.get("name") == name and (class_type is None or item.get("type") == class_type)

    def strip(items: list[Any]) -> tuple[list[Any], int]:
        kept = [a for a in items if not (isinstance(a, dict) and _is_of(a, name, class_type))]
        return kept, len(items) - len(kept)

    with store.write() as conn:
        dataset = resolve(conn, organization_id, ref)
        classes = list(dataset["classes"] or [])
        remaining = [c for c in classes if not matches(c)]
        if len(remaining) == len(classes):
            raise NotFoundError(f"dataset {dataset['name']!r} has no class {name!r}")
        _save_classes(conn, dataset["id"], remaining)
        images, removed = (0, 0)
        if delete_annotations:
            images, removed = _rewrite_images(conn, dataset["id"], strip)
    return {
        "dataset_id": dataset["id"],
        "name": name,
        "config_updated": True,
        "images_updated": images,
        "annotations_removed": removed,
    }


def _is_of(annotation: dict[str, Any], name: str, class_type: str | None) -> bool:
    if annotation.get("name") != name:
        return False
    kind = annotation.get("type")
    return class_type is None or kind == class_type or {kind, class_type} == {"bbox", "box"}


def class_counts(store: AppContext, organization_id: str, ref: str) -> list[dict[str, Any]]:
    """Each class of the dataset with how many annotations and images use it (``type`` None
    for a class stored without one)."""
    counts: dict[str, list[int]] = {}
    with store.read() as conn:
        dataset = resolve(conn, organization_id, ref)

        def count(items: list[Any]) -> tuple[list[Any], int]:
            seen = set()
            for item in items:
                if isinstance(item, dict) and isinstance(item.get("name"), str):
                    counts.setdefault(item["name"], [0, 0])[0] += 1
                    seen.add(item["name"])
            for label in seen:
                counts[label][1] += 1
            return items, 0

        _rewrite_images(conn, dataset["id"], count)
    return [
        {"type": None, **c, "annotation_count": counts.get(c["name"], [0, 0])[0],
         "image_count": counts.get(c["name"], [0, 0])[1]}
        for c in dataset["classes"] or []
    ]  # fmt: skip

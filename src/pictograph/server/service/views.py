"""Turning stored rows into the wire models of ``pictograph.models``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping

from pictograph.models import Dataset, Directory, DirectoryTreeNode, Image
from pictograph.server.service.context import Links, aware

_ZERO_COUNTS = {
    "image_count": 0,
    "archived_image_count": 0,
    "completed_image_count": 0,
    "total_size": 0,
}


def to_image(row: Mapping[str, Any] | RowMapping, links: Links) -> Image:
    """The canonical ``Image`` for an ``images`` row."""
    directory, filename, dataset_id = row["directory_path"], row["filename"], row["dataset_id"]
    return Image(
        id=row["id"],
        dataset_id=dataset_id,
        filename=filename,
        status=row["status"],
        split=row["split"],
        annotation_count=row["annotation_count"] or 0,
        min_confidence=row["min_confidence"],
        file_size=row["file_size"],
        width=row["width"],
        height=row["height"],
        content_type=row["content_type"],
        directory_path=directory,
        sha256=row["sha256"],
        tags=list(row["tags"] or []),
        is_archived=bool(row["is_archived"]),
        image_url=links.image_url(dataset_id, directory, filename),
        annotation_url=links.annotation_url(dataset_id, directory, filename),
        created_at=aware(row["created_at"]),
        updated_at=aware(row["updated_at"]),
    )


def to_dataset(
    row: Mapping[str, Any] | RowMapping,
    counts: Mapping[str, int] | None,
    images: list[Image] | None = None,
) -> Dataset:
    """The ``Dataset`` for a ``datasets`` row plus its live counters."""
    numbers = {key: int((counts or {}).get(key) or 0) for key in _ZERO_COUNTS}
    return Dataset(
        id=row["id"],
        organization_id=row["organization_id"],
        name=row["name"],
        description=row["description"],
        annotation_types=list(row["annotation_types"] or ["bbox"]),
        classes=list(row["classes"] or []),
        is_public=bool(row["is_public"]),
        is_archived=bool(row["is_archived"]),
        archived_at=aware(row["archived_at"]),
        created_at=aware(row["created_at"]),
        updated_at=aware(row["updated_at"]),
        images=images,
        **numbers,
    )


def to_directory(
    row: Mapping[str, Any] | RowMapping, organization_id: str, exact: int, nested: int
) -> Directory:
    """The ``Directory`` for a ``directories`` row with its image counts."""
    return Directory(
        id=row["id"],
        dataset_id=row["dataset_id"],
        organization_id=organization_id,
        name=row["name"],
        parent_directory_id=row["parent_directory_id"],
        full_path=row["full_path"],
        image_count=exact,
        nested_image_count=nested,
        created_at=aware(row["created_at"]),
        updated_at=aware(row["updated_at"]),
    )


def to_tree_node(directory: Directory, children: list[DirectoryTreeNode]) -> DirectoryTreeNode:
    return DirectoryTreeNode(
        id=directory.id,
        name=directory.name,
        full_path=directory.full_path,
        image_count=directory.image_count,
        nested_image_count=directory.nested_image_count,
        children=children,
    )

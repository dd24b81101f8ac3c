"""Wire models of the Pictograph developer API: what the server sends and the SDK parses.

One model per concept, shared by both sides so they cannot drift. Unknown fields are ignored, as
the official SDK ignores them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

ImageStatus = Literal["new", "annotate", "review", "complete"]
ImageSplit = Literal["train", "val", "test"]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class ClassAttribute(_Wire):
    name: str = Field(min_length=1, max_length=120)
    type: Literal["text", "number", "select", "checkbox"] = "text"
    values: list[str] | None = None


class SkeletonJoint(_Wire):
    name: str = Field(min_length=1, max_length=120)
    x: float = Field(default=0.5, ge=0.0, le=1.0)
    y: float = Field(default=0.5, ge=0.0, le=1.0)


class SkeletonTemplate(_Wire):
    nodes: list[SkeletonJoint] = Field(min_length=1)
    edges: list[tuple[int, int]] = Field(default_factory=list)


class DatasetClass(_Wire):
    """A class of a dataset's ontology; reads always carry a colour."""

    name: str = Field(min_length=1, max_length=120)
    type: str | None = None
    color: str | None = None
    attributes: list[ClassAttribute] | None = None
    skeleton: SkeletonTemplate | None = None


class Image(_Wire):
    """One image in a dataset, addressed by ``directory_path`` + ``filename`` or by ``id``."""

    id: str
    dataset_id: str | None = None
    filename: str
    status: ImageStatus = "new"
    split: ImageSplit | None = None
    annotation_count: int = 0
    min_confidence: float | None = None
    file_size: int = 0
    width: int | None = None
    height: int | None = None
    content_type: str | None = None
    directory_path: str | None = None
    sha256: str | None = None
    tags: list[str] = Field(default_factory=list)
    is_archived: bool = False
    image_url: str | None = None
    thumbnail_url: str | None = None
    annotation_url: str | None = None
    created_at: datetime
    updated_at: datetime | None = None


class Dataset(_Wire):
    """A dataset: its row, its class configuration and its live counters."""

    id: str
    organization_id: str | None = None
    name: str
    description: str | None = None
    annotation_types: list[str] = Field(default_factory=lambda: ["bbox"])
    classes: list[DatasetClass] = Field(default_factory=list)
    image_count: int = Field(default=0, ge=0)
    completed_image_count: int = Field(default=0, ge=0)
    archived_image_count: int = Field(default=0, ge=0)
    total_size: int = Field(default=0, ge=0)
    is_public: bool = False
    is_archived: bool = False
    archived_at: datetime | None = None
    storage_class: str = "standard"
    images: list[Image] | None = None
    created_at: datetime
    updated_at: datetime | None = None


class Directory(_Wire):
    """A virtual folder, keyed by (dataset, full_path); renaming one never moves bytes."""

    id: str
    dataset_id: str = Field(validation_alias=AliasChoices("dataset_id", "project_id"))
    organization_id: str | None = None
    name: str
    parent_directory_id: str | None = None
    full_path: str = Field(validation_alias=AliasChoices("full_path", "directory_path"))
    image_count: int = 0
    nested_image_count: int = 0
    created_by: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class DirectoryTreeNode(_Wire):
    id: str
    name: str
    full_path: str
    image_count: int = 0
    nested_image_count: int = 0
    children: list[DirectoryTreeNode] = Field(default_factory=list)


class DirectoryStats(_Wire):
    total_directories: int
    total_images: int
    total_size_bytes: int
    directories_by_status: dict[str, int] = Field(default_factory=dict)


class BulkUploadFailure(_Wire):
    """One file a bulk upload could not register, and why."""

    filename: str
    error: str
    directory_path: str = "/"


class BulkUploadResult(_Wire):
    """Outcome of ``images.bulk_upload``: registered images and per-file failures."""

    succeeded: list[Image]
    failed: list[BulkUploadFailure]

    @property
    def count(self) -> int:
        return len(self.succeeded)


class TrashItem(_Wire):
    """A dataset or an image in the trash: restorable until ``expires_at``, then gc removes it.

    ``name`` is a dataset's name or an image's path (``/folder/file.jpg``); ``image_count`` is
    given for datasets only."""

    id: str
    kind: Literal["dataset", "image"]
    name: str
    dataset_id: str
    dataset_name: str
    deleted_at: datetime
    expires_at: datetime
    deleted_by: str | None = None
    image_count: int | None = None


def dump(model: BaseModel) -> dict[str, Any]:
    """A model as JSON-ready data: datetimes as RFC 3339 strings, ``None`` fields kept."""
    return model.model_dump(mode="json")

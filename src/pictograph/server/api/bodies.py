"""JSON request bodies of the developer API (unknown keys are ignored, as the SDK expects)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pictograph.models import DatasetClass


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class DatasetCreate(_Body):
    name: str
    readme: str | None = None
    description: str | None = None
    annotation_types: list[str] | None = None
    classes: list[DatasetClass] | None = None


class DatasetUpdate(_Body):
    new_name: str | None = None
    readme: str | None = None
    description: str | None = None
    annotation_types: list[str] | None = None
    classes: list[DatasetClass] | None = None
    classes_base: list[DatasetClass] | None = None


class UploadUrlRequest(_Body):
    dataset: str
    filename: str
    directory_path: str | None = "/"
    content_type: str


class RegisterRequest(_Body):
    dataset: str
    filename: str
    directory_path: str | None = "/"
    file_size: int | None = None
    content_type: str | None = None
    width: int | None = None
    height: int | None = None


class BulkUploadEntry(_Body):
    filename: str
    directory_path: str | None = "/"
    content_type: str
    #: Our extension: the file's SHA-256, which binds a presigned upload URL to its bytes.
    sha256: str | None = None


class BulkUploadUrlRequest(_Body):
    dataset: str
    images: list[BulkUploadEntry]
    #: Our extension: each PUT registers its image, so no bulk-register call follows.
    register_on_upload: bool = False
    #: Our extension: names already taken get ``upload_url: null`` (no token is minted).
    skip_existing: bool = False


class BulkRegisterEntry(_Body):
    filename: str
    directory_path: str | None = "/"
    file_size: int | None = None
    content_type: str | None = None
    width: int | None = None
    height: int | None = None


class BulkRegisterRequest(_Body):
    dataset: str
    images: list[BulkRegisterEntry]


class DirectoryCreate(_Body):
    dataset: str
    directory_path: str


class DirectoryRename(_Body):
    new_name: str


class AnnotationsBody(_Body):
    annotations: list[Any] = Field(default_factory=list)

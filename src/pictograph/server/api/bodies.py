"""JSON request bodies of the developer API (unknown keys are ignored, as the SDK expects)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from pictograph.errors import ValidationError
from pictograph.models import DatasetClass
from pictograph.server.service.paths import refuse_control, refuse_nul
from pictograph.server.service.uploads import UploadTarget


def _plain_name(value: str) -> str:
    try:
        return refuse_control(value, "a name")
    except ValidationError as error:  # pydantic reports a ValueError as a field's 422
        raise ValueError(error.message) from None


#: A string stored as a name (of a key, an export, a tag...): no control characters.
Name = Annotated[str, AfterValidator(_plain_name)]


class _Body(BaseModel):
    """A request body: no string anywhere in it (free text and nested documents too) may hold a
    NUL; fields typed ``Name`` hold no control character at all."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        try:
            refuse_nul(data, "a request body")
        except ValidationError as error:
            raise ValueError(error.message) from None
        return data


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


class TrashRestore(_Body):
    """``POST $P/trash/datasets/{id}/restore``: a new name when the old one is taken."""

    new_name: str | None = None


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
    #: The annotation version the client edited (our SDK's ``save(..., version=)``); the
    #: ``If-Match`` header says the same for browsers. Neither: the save replaces, as before.
    version: int | None = Field(default=None, ge=0)


class ExportCreate(_Body):
    dataset_name: str
    name: Name
    format: str = "pictograph"
    include_images: bool = False
    class_filter: list[Name] | None = None
    status_filter: str | None = None
    organize_by_split: bool = False
    version: Name | None = None


class VersionCreate(_Body):
    name: Name
    description: str | None = None


class ExportBulkDelete(_Body):
    export_ids: list[str]


class AnnotationSave(_Body):
    image_id: str
    annotations: list[Any] = Field(default_factory=list)


class BulkAnnotationsBody(_Body):
    saves: list[AnnotationSave]


class RenameClassBody(_Body):
    dataset: str
    old_name: str
    new_name: Annotated[Name, Field(min_length=1, max_length=120)]


class MergeClassBody(_Body):
    dataset: str
    source_name: str
    target_name: Name


class DeleteClassBody(_Body):
    dataset: str
    name: str
    class_type: str | None = None
    delete_annotations: bool = False


class BulkTagBody(_Body):
    dataset: str
    image_ids: list[str]
    tags: list[Name]
    add: bool = True


class ReviewBody(_Body):
    action: str
    note: str | None = None


class SplitBody(_Body):
    split: str | None = None


class AssignSplitsBody(_Body):
    dataset: str
    train: int = 70
    val: int = 20
    test: int = 10
    seed: int = 42
    split_mode: str = "random"


class BatchBody(_Body):
    dataset_name: str
    image_ids: list[str]
    #: Our extension: refuse the whole batch (404, nothing changed) when an id is not an image of
    #: the dataset; by default such ids are listed in ``failed`` of a 200, as the reference does.
    strict: bool = False


class BatchMove(BatchBody):
    target_directory_path: str = "/"
    #: A taken name gets a -n suffix, as the official SDK documents; our extension "fail" makes
    #: it a 409 instead (nothing moved).
    duplicate_handling: str = "rename"


class BatchCopy(BatchBody):
    target_directory_path: str = "/"
    duplicate_handling: str = "rename"
    copy_annotations: bool = False


class BatchCopyToDataset(BatchBody):
    target_dataset_name: str
    target_directory_path: str = "/"


class BatchDelete(BatchBody):
    permanent: bool = False


class BatchUpdates(_Body):
    status: str | None = None
    display_name: Name | None = None
    is_archived: bool | None = None


class BatchUpdate(BatchBody):
    updates: BatchUpdates


class ApiKeyCreate(_Body):
    organization_id: str | None = None
    name: Name
    role: str = "member"
    rate_limit: int | None = None
    expires_at: datetime | None = None


class ApiKeyUpdate(_Body):
    name: Name | None = None
    rate_limit: int | None = None
    is_active: bool | None = None
    #: Refused when present: a key's role never changes.
    role: str | None = None


class OrganizationUpdate(_Body):
    name: Name | None = None
    description: str | None = None
    is_public: bool | None = None


class MemberRole(_Body):
    role: str


class InviteBody(_Body):
    email: Name
    role: str = "member"


def batch_manifest(raw: bytes, count: int) -> list[UploadTarget]:
    """The targets an upload batch's ``manifest`` field names, one per file part (``count``):
    a JSON list of ``{"filename", "directory_path", "content_type"}``. A bad name or type is
    left to fail its own file; a manifest that is not such a list is a 422 for the batch."""
    try:
        entries = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValidationError("an upload batch's manifest is not JSON") from None
    if not isinstance(entries, list) or len(entries) != count:
        raise ValidationError(
            f"an upload batch's manifest lists one entry per file: {count} files were sent"
        )
    targets = []
    for index, entry in enumerate(entries):
        fields = entry if isinstance(entry, dict) else {}
        filename, folder, mime = (
            fields.get(k) for k in ("filename", "directory_path", "content_type")
        )
        if not isinstance(filename, str) or not isinstance(mime, str):
            raise ValidationError(f"manifest[{index}] needs a filename and a content_type")
        if folder is not None and not isinstance(folder, str):
            raise ValidationError(f"manifest[{index}].directory_path is not a string")
        targets.append(UploadTarget(filename, folder if folder is not None else "/", mime))
    return targets

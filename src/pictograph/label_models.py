"""Wire models of the labelling calls (exports, batch, search, annotations, keys, organisations),
as the official SDK names them. Unknown fields are ignored."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

ExportStatus = Literal["pending", "processing", "completed", "failed"]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Export(_Wire):
    """An export job and, once ``completed``, its archive's size and counts."""

    id: str
    dataset_id: str = Field(validation_alias=AliasChoices("dataset_id", "project_id"))
    dataset_name: str
    name: str
    format: str
    include_images: bool = False
    class_filter: list[str] | None = None
    status_filter: str | None = None
    organize_by_split: bool = False
    status: ExportStatus
    error_message: str | None = None
    file_size: int | None = None
    image_count: int | None = None
    annotation_count: int | None = None
    created_at: datetime
    expires_at: datetime | None = None
    download_url: str | None = None
    organization_id: str | None = None
    #: The dataset version exported (our extension); None for the live dataset.
    version: str | None = None


class DatasetVersion(_Wire):
    """A dataset's images, labels, classes and splits frozen under a name (our extension)."""

    id: str
    dataset_id: str
    dataset_name: str
    name: str
    description: str | None = None
    image_count: int
    annotation_count: int
    classes: list[dict[str, Any]] = Field(default_factory=list)
    annotation_types: list[str] = Field(default_factory=list)
    #: Images per split (``none``: no split); only when read one by one.
    splits: dict[str, int] | None = None
    created_at: datetime


class BulkDeleteResult(_Wire):
    succeeded: list[str] = Field(
        default_factory=list, validation_alias=AliasChoices("succeeded", "deleted")
    )
    not_found: list[str] = Field(default_factory=list)
    count: int = 0


class BatchFailure(_Wire):
    id: str
    reason: str


class BatchResult(_Wire):
    """What a batch operation did: how many images, which failed and why, folders touched."""

    success: bool
    processed: int
    failed: list[BatchFailure] = Field(default_factory=list)
    affected_directories: list[str] = Field(default_factory=list)
    renamed: int = 0
    operation: str | None = None


class CopyToDatasetResult(BatchResult):
    target_dataset: str
    classes_added: list[str] = Field(default_factory=list)


class SimilarImage(_Wire):
    id: str
    filename: str
    status: str
    annotation_count: int = 0
    similarity: float = Field(ge=0.0, le=1.0)
    virtual_directory_path: str = "/"
    image_auto_tags: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)


class TaggedImage(_Wire):
    id: str
    dataset_id: str = Field(validation_alias=AliasChoices("dataset_id", "project_id"))
    filename: str
    status: str
    annotation_count: int = 0
    virtual_directory_path: str = "/"
    image_auto_tags: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)


class SaveResult(_Wire):
    image_id: str
    previous_count: int
    new_count: int
    status: str
    #: The image's annotation version after the save (None from servers that keep none).
    version: int | None = None


class VersionedAnnotations(_Wire):
    """An image's annotations with the version they are at: pass it to ``save(version=)``."""

    annotations: list[dict[str, Any]] = Field(default_factory=list)
    version: int | None = None


class BulkSaveFailure(_Wire):
    image_id: str
    error: str


class BulkSaveResult(_Wire):
    saved: list[SaveResult] = Field(default_factory=list)
    failed: list[BulkSaveFailure] = Field(default_factory=list)


class ApiKey(_Wire):
    id: str
    organization_id: str
    name: str
    key_prefix: str
    role: str
    rate_limit: int
    is_active: bool
    last_used_at: datetime | None = None
    expires_at: datetime | None = None
    created_at: datetime


class AuditEntry(_Wire):
    """One write that removed or changed data or access: who (key), what, when, from where."""

    id: str
    key_id: str | None = None
    key_name: str | None = None
    action: str
    method: str
    path: str
    status: int
    client: str | None = None
    created_at: datetime


class CreatedApiKey(_Wire):
    """A new key: ``api_key`` is the secret, shown this once."""

    api_key: str
    key_id: str
    key_prefix: str
    name: str
    role: str
    rate_limit: int
    created_at: datetime
    expires_at: datetime | None = None


class Organization(_Wire):
    id: str
    name: str
    slug: str
    description: str | None = None
    is_public: bool | None = None
    subscription_tier: str
    member_count: int = 0
    pending_invite_count: int = 0
    created_at: datetime
    updated_at: datetime


class OrganizationMember(_Wire):
    id: str
    user_id: str
    email: str | None = None
    full_name: str | None = None
    role: str
    joined_at: datetime


class OrganizationInvite(_Wire):
    id: str
    organization_id: str
    email: str
    role: str
    status: str
    invited_by: str | None = None
    expires_at: datetime
    created_at: datetime


class LeakImage(_Wire):
    id: str
    path: str
    split: str


class SplitLeak(_Wire):
    """Two near-duplicate images in different splits (our extension)."""

    similarity: float
    images: list[LeakImage]

"""Local image files as the upload routes describe them (name, folder, MIME type, size), and the
models of our upload extensions (pre-flight slots, the batch route and its outcomes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict

from pydantic import BaseModel, ConfigDict

from pictograph.errors import ApiError, ServerError, error_from_response
from pictograph.protocol import content_type_for


class RegisterItem(TypedDict):
    """One image of a ``register`` / ``bulk-register`` body."""

    filename: str
    directory_path: str
    file_size: int
    content_type: str
    width: int | None
    height: int | None


class FolderDigest(BaseModel):
    """A dataset's ``names-digest`` answer: its image count, the digest of their places, and of
    their places with sizes (``None`` from a server without it)."""

    model_config = ConfigDict(frozen=True)

    count: int
    names_sha256: str
    sizes_sha256: str | None
    #: (folder, filename, why) of each upload the server's background check took out of the
    #: dataset, whose place holds no image now (our server's; empty from others).
    quarantined: tuple[tuple[str, str, str], ...] = ()


class ExistingImage(BaseModel):
    """The image already stored at a requested (folder, filename): our server's extension."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    sha256: str | None = None
    file_size: int | None = None


class UploadSlot(BaseModel):
    """One entry of a ``bulk-upload-url`` answer: where to PUT one file, and what is there now."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    #: Absent for a name that is already taken (``existing`` says what is there).
    upload_url: str | None = None
    filename: str
    directory_path: str
    existing: ExistingImage | None = None
    #: Headers the PUT must carry (a presigned URL straight to the bucket is bound to them).
    upload_headers: dict[str, str] | None = None

    @property
    def url(self) -> str:
        """Where to PUT the file; ``ServerError`` if the server gave no URL for a new name."""
        if self.upload_url is None:
            raise ServerError(f"no upload URL for {self.directory_path}/{self.filename}")
        return self.upload_url


class UploadBatch(BaseModel):
    """Where several small files go in one request, and how many and how big (our extension).

    ``api_path``: the batch route under the API key, a manifest naming the files (this
    release's servers). ``url``: the older route, each part named by the token of the file's
    ``upload_url`` (its last path segment), made with ``register_on_upload``.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    url: str
    max_files: int
    max_bytes: int
    api_path: str | None = None


class UploadPlan(BaseModel):
    """A ``bulk-upload-url`` answer: one slot per file, and the batch route if offered."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    slots: list[UploadSlot]
    batch: UploadBatch | None = None
    #: The URLs go straight to the bucket: a PUT registers nothing, ``bulk-register`` does.
    direct: bool = False


class BatchReceipt(BaseModel):
    """What the batch route did with one file: its image's id, SHA-256 and size, or why not."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str | None = None
    sha256: str | None = None
    file_size: int | None = None
    error: dict[str, Any] | None = None

    @classmethod
    def of(cls, raw: Any) -> BatchReceipt:
        """A receipt from either route's answer: slim, or ``{"image": {...}}`` (older route)."""
        if isinstance(raw, dict) and isinstance(raw.get("image"), dict):
            raw = raw["image"]
        return cls.model_validate(raw if isinstance(raw, dict) else {})

    def failure(self) -> ApiError | None:
        """``None`` when the file was registered; otherwise the ``ApiError`` its error names."""
        if self.id is not None:
            return None
        error = self.error or {"message": "the batch route gave no answer for this file"}
        status = error.get("status")
        return error_from_response(status if isinstance(status, int) else 500, {"error": error})


def describe_file(
    path: Path,
    *,
    directory_path: str = "/",
    filename: str | None = None,
    content_type: str | None = None,
) -> RegisterItem:
    """The ``register`` fields of a local image file, checked before any request is made.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for a suffix that is not
    an image type (unless ``content_type`` is given). Width and height are left ``None``: the
    server measures the bytes it received (the protocol allows ``null``), so the client never
    decodes an image.
    """
    if not path.is_file():
        raise FileNotFoundError(f"Image file not found: {path}")
    name = filename or path.name
    mime = content_type or content_type_for(Path(name))
    return RegisterItem(
        filename=name,
        directory_path=directory_path,
        file_size=path.stat().st_size,
        content_type=mime,
        width=None,
        height=None,
    )

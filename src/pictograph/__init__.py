"""Pictograph: a self-hostable image-dataset platform and the SDK that speaks its API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph._version import __version__
from pictograph.client import Client
from pictograph.errors import (
    ApiError,
    AuthError,
    ConfigurationError,
    ConflictError,
    ForbiddenError,
    LengthRequiredError,
    NetworkError,
    NotFoundError,
    PayloadTooLargeError,
    PaymentRequiredError,
    PictographError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    ValidationError,
)
from pictograph.models import (
    BulkUploadFailure,
    BulkUploadResult,
    Dataset,
    DatasetClass,
    Directory,
    DirectoryStats,
    DirectoryTreeNode,
    Image,
)

if TYPE_CHECKING:
    from pictograph.workflows.upload import UploadFailure, UploadReport


__all__ = [
    "ApiError",
    "AuthError",
    "BulkUploadFailure",
    "BulkUploadResult",
    "Client",
    "ConfigurationError",
    "ConflictError",
    "Dataset",
    "DatasetClass",
    "Directory",
    "DirectoryStats",
    "DirectoryTreeNode",
    "ForbiddenError",
    "Image",
    "LengthRequiredError",
    "NetworkError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PaymentRequiredError",
    "PictographError",
    "RateLimitError",
    "RequestTimeoutError",
    "ServerError",
    "UploadFailure",
    "UploadReport",
    "ValidationError",
    "__version__",
]

_LAZY = {"UploadReport", "UploadFailure"}


def __getattr__(name: str) -> Any:
    """``UploadReport`` and ``UploadFailure`` come from the workflows, imported on first use."""
    if name in _LAZY:
        from pictograph.workflows import upload

        return getattr(upload, name)
    raise AttributeError(f"module 'pictograph' has no attribute {name!r}")

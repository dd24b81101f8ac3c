"""Pictograph: a self-hostable image-dataset platform and the SDK that speaks its API."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pictograph._version import __version__
from pictograph.errors import (
    ApiError,
    AuthError,
    ConfigurationError,
    ConflictError,
    ForbiddenError,
    InsufficientStorageError,
    LengthRequiredError,
    NetworkError,
    NotFoundError,
    PayloadTooLargeError,
    PaymentRequiredError,
    PictographError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    StoreInUseError,
    ValidationError,
)

if TYPE_CHECKING:
    from pictograph._upload.engine import UploadFailure, UploadReport
    from pictograph.client import Client
    from pictograph.models import (
        BulkUploadFailure,
        BulkUploadResult,
        Dataset,
        DatasetClass,
        Directory,
        DirectoryStats,
        DirectoryTreeNode,
        Image,
        TrashItem,
    )


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
    "InsufficientStorageError",
    "LengthRequiredError",
    "NetworkError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PaymentRequiredError",
    "PictographError",
    "RateLimitError",
    "RequestTimeoutError",
    "ServerError",
    "StoreInUseError",
    "TrashItem",
    "UploadFailure",
    "UploadReport",
    "ValidationError",
    "__version__",
]

#: Names imported on first use, so that ``import pictograph`` (and so ``pictograph --version``)
#: does not pay for httpx and pydantic before anything needs them.
_LAZY = {
    "Client": "pictograph.client",
    **dict.fromkeys(
        [
            "BulkUploadFailure",
            "BulkUploadResult",
            "Dataset",
            "DatasetClass",
            "Directory",
            "DirectoryStats",
            "DirectoryTreeNode",
            "Image",
            "TrashItem",
        ],
        "pictograph.models",
    ),
    "UploadFailure": "pictograph._upload.engine",
    "UploadReport": "pictograph._upload.engine",
}


def __getattr__(name: str) -> Any:
    """The client, the models and the upload report, imported from their modules on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pictograph' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

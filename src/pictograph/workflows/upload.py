"""``upload_dataset_from_folder``: walk a local folder and upload every image to a dataset (the
user's specification, docs/upload-contract.md). The engine is ``pictograph._upload.engine``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pictograph._upload.engine import (
    UploadFailure,
    UploadInterrupted,
    UploadReport,
    upload_folder,
)

if TYPE_CHECKING:
    from pictograph.client import Client

__all__ = [
    "UploadFailure",
    "UploadInterrupted",
    "UploadReport",
    "upload_dataset_from_folder",
    "upload_folder",
]


def upload_dataset_from_folder(
    client: Client,
    dataset_name: str,
    folder: str | Path,
    *,
    organize_by_class: bool = True,
    parallel: bool = True,
    max_workers: int = 8,
    skip_existing: bool = True,
    create_if_missing: bool = True,
    progress: Callable[[int, int, str | None], None] | None = None,
) -> UploadReport:
    """Upload every image under ``folder`` to the dataset ``dataset_name``.

    First-level subfolders become virtual folders when ``organize_by_class`` (deeper ones
    collapse into them); otherwise every file lands at the root. Files whose name is already in
    the dataset are skipped (``skip_existing``) or recorded as failures.

    Raises ``FileNotFoundError`` when ``folder`` is missing or not a directory, and
    ``NotFoundError`` when the dataset is missing and ``create_if_missing`` is False.
    """
    return upload_folder(
        client,
        dataset_name,
        folder,
        organize_by_class=organize_by_class,
        preserve_structure=False,
        parallel=parallel,
        max_workers=max_workers,
        skip_existing=skip_existing,
        create_if_missing=create_if_missing,
        progress=progress,
    )

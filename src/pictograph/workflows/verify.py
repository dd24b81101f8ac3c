"""Proving an upload lost nothing: a local folder compared with a dataset by SHA-256."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pictograph._upload.folder_plan import plan_folder
from pictograph.protocol import dataset_path

if TYPE_CHECKING:
    from pictograph.client import Client


@dataclass
class FolderComparison:
    """Dataset paths (``/folder/name.jpg``) sorted into what matched and what did not."""

    matched: int = 0
    missing: list[str] = field(default_factory=list)  # local files the dataset lacks
    different: list[str] = field(default_factory=list)  # there, with other bytes
    extra: list[str] = field(default_factory=list)  # in the dataset, not in the folder
    unreadable: list[str] = field(default_factory=list)  # local entries that could not be read

    @property
    def ok(self) -> bool:
        return not (self.missing or self.different or self.extra or self.unreadable)


def compare_folder(
    client: Client,
    folder: str | os.PathLike[str],
    dataset: str,
    *,
    organize_by_class: bool = True,
    preserve_structure: bool = False,
) -> FolderComparison:
    """Compare ``folder``, mapped to dataset paths as an upload with the same options maps it,
    with ``dataset``'s (unarchived) images by SHA-256. Names compare in NFC, as stored (the
    plan's names are NFC).

    Raises ``FileNotFoundError`` for a missing folder and ``NotFoundError`` for an unknown
    dataset.
    """
    plan = plan_folder(
        folder, organize_by_class=organize_by_class, preserve_structure=preserve_structure
    )
    stored = {
        dataset_path(image.directory_path, image.filename): image.sha256
        for image in client.images.iter(dataset, page_size=1000)
    }
    result = FolderComparison(unreadable=[str(problem.path) for problem in plan.problems])
    for planned in plan.files:
        name = planned.dataset_path
        if name not in stored:
            result.missing.append(name)
            continue
        expected = stored.pop(name)
        try:
            actual = _sha256(planned.path)
        except OSError as error:
            result.unreadable.append(f"{planned.local}: {error.strerror or error}")
            continue
        if actual == expected:
            result.matched += 1
        else:
            result.different.append(name)
    result.extra = sorted(stored)
    return result


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()

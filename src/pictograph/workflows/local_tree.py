"""Where a dataset's images land in a local folder, and whether a copy there is already current.

Folder and file names come from the server, so they are treated as untrusted: each path segment
loses separators and control characters, ``.`` and ``..`` become ``_``, and the final path must
resolve inside the download folder (a symlink inside it pointing elsewhere is refused too).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pictograph.models import Image

_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
_CHUNK = 1024 * 1024


class UnsafePathError(ValueError):
    """An image's folder or name would resolve outside the download folder."""


def safe_segment(name: str) -> str:
    """One harmless path component for ``name``: never empty, never ``.`` or ``..``."""
    cleaned = _UNSAFE.sub("_", name).strip()
    return "_" if cleaned in ("", ".", "..") else cleaned


def local_path(root: Path, image: Image) -> Path:
    """``root/<folder>/.../<filename>`` for ``image`` (root-folder images at the top).

    Raises ``UnsafePathError`` when the result would not stay inside ``root``.
    """
    folders = [safe_segment(part) for part in (image.directory_path or "/").split("/") if part]
    target = root.joinpath(*folders, safe_segment(image.filename))
    if not target.resolve().is_relative_to(root.resolve()):
        raise UnsafePathError(f"{target} would be written outside {root}; not written")
    return target


def is_current(path: Path, image: Image) -> bool:
    """True when ``path`` already holds ``image``: same size, and same SHA-256 when it is known."""
    try:
        if not path.is_file() or path.stat().st_size != image.file_size:
            return False
    except OSError:
        return False
    return image.sha256 is None or sha256_of(path) == image.sha256.lower()


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()

"""Image file suffixes and the MIME types the protocol declares for them."""

from __future__ import annotations

from pathlib import PurePath

CONTENT_TYPES: dict[str, str] = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".bmp": "image/bmp",
    ".webp": "image/webp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".heic": "image/heic",
    ".heif": "image/heif",
}

#: Suffixes a folder upload walks: the user's specification lists exactly these (no ``.heif``).
FOLDER_SUFFIXES: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".heic"}
)


def content_type_for(path: PurePath) -> str:
    """The MIME type for a file name's suffix, matched case-insensitively.

    Raises ``ValueError`` for a suffix that is not a supported image type.
    """
    suffix = path.suffix.lower()
    if suffix not in CONTENT_TYPES:
        supported = ", ".join(sorted(CONTENT_TYPES))
        raise ValueError(f"unsupported image type {suffix or '(none)'!r}; supported: {supported}")
    return CONTENT_TYPES[suffix]

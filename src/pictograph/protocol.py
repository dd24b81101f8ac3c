"""Facts of the wire protocol, defined once and imported by both the SDK and the server.

The API prefix, what an id looks like, image suffixes and their MIME types, and the caps on one
request. Nothing here imports the rest of the package.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import PurePath

__all__ = [
    "API_PREFIX",
    "CONTENT_TYPES",
    "FOLDER_SUFFIXES",
    "ID_PATTERN",
    "KEYS_PREFIX",
    "MAX_BATCH_BYTES",
    "MAX_BATCH_FILES",
    "MAX_BULK_IMAGES",
    "content_type_for",
    "dataset_path",
    "looks_like_id",
    "names_digest",
    "sizes_digest",
    "yolo_label_of",
]

#: Every developer API route lives under this prefix.
API_PREFIX = "/api/v1/developer"

#: Ids are canonical UUIDs; the official SDK tells an id from a name by this shape alone.
ID_PATTERN = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE
)

#: API-key management lives outside the developer prefix, and needs a key like it.
KEYS_PREFIX = "/api/v1/api-keys"

#: Images one bulk request may name (``bulk-upload-url``, ``bulk-register``).
MAX_BULK_IMAGES = 500
#: Files one upload batch (``POST /storage/upload-batch``, our extension) may carry.
MAX_BATCH_FILES = 64
#: Bytes one upload batch may carry, all parts together.
MAX_BATCH_BYTES = 16 * 1024 * 1024


def looks_like_id(value: str) -> bool:
    """True when ``value`` is shaped like a canonical UUID (the official SDK's only test)."""
    return bool(ID_PATTERN.match(value.strip()))


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


def dataset_path(directory_path: str | None, filename: str) -> str:
    """``/stop/001.jpg``: where an image sits in its dataset (no folder is the root)."""
    return f"{(directory_path or '/').rstrip('/')}/{filename}"


def names_digest(places: Iterable[tuple[str, str]]) -> str:
    """SHA-256 (hex) of a set of (folder, filename) places, independent of their order.

    Our extension ``GET $P/images/names-digest`` answers it for every image of a dataset; a
    client whose folder gives the same digest and count knows every name is already there.
    """
    text = "".join([f"{folder}\0{filename}\0" for folder, filename in sorted(places)])
    return hashlib.sha256(text.encode()).hexdigest()


def yolo_label_of(image: str) -> str:
    """Where ultralytics looks for an image's YOLO label (its ``img2label_paths``): the last
    ``/images/`` of the path made ``/labels/``, the suffix made ``.txt``. Our YOLO exports put
    each label there, and ``pictograph import yolo`` reads them back by the same rule."""
    swapped = "/labels/".join(f"/{image}".rsplit("/images/", 1))
    return swapped.rsplit(".", 1)[0].lstrip("/") + ".txt"


def sizes_digest(entries: Iterable[tuple[str, str, int]]) -> str:
    """SHA-256 (hex) of a set of (folder, filename, size in bytes), independent of their order.

    ``names-digest`` answers it too (``sizes_sha256``): a re-run whose names and sizes all match
    skips every file without a pre-flight; one whose sizes differ asks per batch, and learns
    which files changed since they were uploaded.
    """
    text = "".join([f"{folder}\0{name}\0{size}\0" for folder, name, size in sorted(entries)])
    return hashlib.sha256(text.encode()).hexdigest()

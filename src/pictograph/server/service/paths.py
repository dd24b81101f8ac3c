"""Validation and normalisation of folder paths, filenames and dataset names."""

from __future__ import annotations

import functools
import re
import uuid

from pictograph.errors import ValidationError
from pictograph.protocol import ID_PATTERN

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_SEGMENT = 255
_MAX_PATH = 4096


def is_uuid(value: str) -> bool:
    """Whether ``value`` has the canonical UUID shape the SDK tests for."""
    return bool(ID_PATTERN.match(value))


def canonical_uuid(value: str) -> str:
    return str(uuid.UUID(value))


def _check_segment(segment: str, what: str) -> None:
    if segment in (".", ".."):
        raise ValidationError(f"{what} may not contain '.' or '..' segments")
    if "\\" in segment:
        raise ValidationError(f"{what} may not contain backslashes")
    if _CONTROL.search(segment):
        raise ValidationError(f"{what} may not contain control characters")
    if len(segment) > _MAX_SEGMENT:
        raise ValidationError(f"{what} has a segment longer than {_MAX_SEGMENT} characters")


@functools.lru_cache(maxsize=4096)
def normalize_directory(raw: str | None) -> str:
    """The canonical folder path: ``/`` or ``/a/b`` (no trailing slash, no empty segments).

    Accepts the path with or without a leading ``/``. Raises ``ValidationError`` for ``.``/``..``
    segments, backslashes and control characters.
    """
    if raw is None:
        return "/"
    segments = [segment for segment in raw.split("/") if segment != ""]
    for segment in segments:
        _check_segment(segment, f"directory path {raw!r}")
    path = "/" + "/".join(segments)
    if len(path) > _MAX_PATH:
        raise ValidationError(f"directory path is longer than {_MAX_PATH} characters")
    return path


def validate_filename(name: str) -> str:
    """``name`` when it is a single path segment; ``ValidationError`` otherwise."""
    if not name or not name.strip():
        raise ValidationError("filename must not be empty")
    if "/" in name:
        raise ValidationError(f"filename {name!r} must be a single name without '/'")
    _check_segment(name, f"filename {name!r}")
    return name


def validate_folder_name(name: str) -> str:
    """A single folder name (for rename); ``ValidationError`` otherwise."""
    if not name or not name.strip() or "/" in name:
        raise ValidationError("new_name must be a single, non-empty folder name without '/'")
    _check_segment(name, f"folder name {name!r}")
    return name


def validate_dataset_name(name: str) -> str:
    """``name`` when usable as a dataset name (non-empty, no ``/``, no control characters)."""
    if not name or not name.strip():
        raise ValidationError("dataset name must not be empty")
    if "/" in name:
        raise ValidationError(f"dataset name {name!r} must not contain '/'")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise ValidationError("dataset name may not contain control characters")
    if len(name) > _MAX_SEGMENT:
        raise ValidationError(f"dataset name is longer than {_MAX_SEGMENT} characters")
    return name


def split_image_path(segment: str) -> tuple[str, str]:
    """``dir/sub/file.jpg`` -> (``/dir/sub``, ``file.jpg``); a bare filename means the root."""
    head, _, filename = segment.strip("/").rpartition("/")
    return normalize_directory(head), validate_filename(filename)


def parent_of(path: str) -> str:
    """The parent folder of a canonical path (``/`` for root-level folders)."""
    head = path.rsplit("/", 1)[0]
    return head or "/"


def join(directory_path: str, name: str) -> str:
    return f"{directory_path.rstrip('/')}/{name}"

"""Validation and normalisation of folder paths, filenames and dataset names: the one place
every name coming in is checked. Names are stored in Unicode NFC, so "café" typed on macOS (NFD)
and on Linux (NFC) is one name; bidi controls and zero-width characters, which make a name look
like another, are refused."""

from __future__ import annotations

import functools
import re
import unicodedata
import uuid
from typing import Any

from pictograph.errors import ValidationError
from pictograph.protocol import ID_PATTERN

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Bidirectional controls (U+061C, U+200E/F, U+202A-E, U+2066-9) and zero-width characters
#: (U+200B-D, U+2060-4, U+180E, U+FEFF).
_INVISIBLE = re.compile("[\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_MAX_SEGMENT = 255
_MAX_PATH = 4096


def is_uuid(value: str) -> bool:
    """Whether ``value`` has the canonical UUID shape the SDK tests for."""
    return bool(ID_PATTERN.match(value))


def canonical_uuid(value: str) -> str:
    return str(uuid.UUID(value))


def _clean_segment(segment: str, what: str) -> str:
    """``segment`` in NFC; ``ValidationError`` saying why when it cannot be a name."""
    segment = unicodedata.normalize("NFC", segment)
    if segment in (".", ".."):
        raise ValidationError(f"{what} may not contain '.' or '..' segments")
    if "\\" in segment:
        raise ValidationError(f"{what} may not contain backslashes")
    refuse_control(segment, what)
    _refuse_invisible(segment, what)
    if len(segment) > _MAX_SEGMENT:
        raise ValidationError(f"{what} has a segment longer than {_MAX_SEGMENT} characters")
    return segment


def refuse_control(name: str, what: str) -> str:
    """``name`` when it holds no control character (U+0000-U+001F, U+007F): the check of every
    stored name (PostgreSQL cannot store a NUL at all); ``ValidationError`` otherwise."""
    found = _CONTROL.search(name)
    if found:
        raise ValidationError(
            f"{what} may not contain control characters (found U+{ord(found.group()):04X})"
        )
    return name


def refuse_nul(value: Any, what: str) -> None:
    """``ValidationError`` when a string anywhere in ``value`` (a JSON document: lists, objects
    and their keys) holds a NUL, which no text column (PostgreSQL) can store; free text may
    otherwise hold line breaks and tabs."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise ValidationError(f"{what} may not contain control characters (found U+0000)")
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)


def _refuse_invisible(name: str, what: str) -> None:
    found = _INVISIBLE.search(name)
    if found:
        raise ValidationError(
            f"{what} contains U+{ord(found.group()):04X}, an invisible bidirectional-control or "
            "zero-width character that can make one name look like another; remove it"
        )


@functools.lru_cache(maxsize=4096)
def normalize_directory(raw: str | None) -> str:
    """The canonical folder path: ``/`` or ``/a/b`` (no trailing slash, no empty segments).

    Accepts the path with or without a leading ``/``. Raises ``ValidationError`` for ``.``/``..``
    segments, backslashes and control characters.
    """
    if raw is None:
        return "/"
    what = f"directory path {raw!r}"
    segments = [_clean_segment(segment, what) for segment in raw.split("/") if segment != ""]
    path = "/" + "/".join(segments)
    if len(path) > _MAX_PATH:
        raise ValidationError(f"directory path is longer than {_MAX_PATH} characters")
    return path


def validate_filename(name: str) -> str:
    """``name`` in NFC when it is a single path segment; ``ValidationError`` otherwise."""
    if not name or not name.strip():
        raise ValidationError("filename must not be empty")
    if "/" in name:
        raise ValidationError(f"filename {name!r} must be a single name without '/'")
    return _clean_segment(name, f"filename {name!r}")


def validate_folder_name(name: str) -> str:
    """A single folder name (for rename); ``ValidationError`` otherwise."""
    if not name or not name.strip() or "/" in name:
        raise ValidationError("new_name must be a single, non-empty folder name without '/'")
    return _clean_segment(name, f"folder name {name!r}")


def validate_dataset_name(name: str) -> str:
    """``name`` in NFC when usable as a dataset name (non-empty, no ``/``, no control, bidi or
    zero-width characters); ``ValidationError`` otherwise."""
    name = unicodedata.normalize("NFC", name)
    if not name or not name.strip():
        raise ValidationError("dataset name must not be empty")
    if "/" in name:
        raise ValidationError(f"dataset name {name!r} must not contain '/'")
    refuse_control(name, "dataset name")
    _refuse_invisible(name, f"dataset name {name!r}")
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

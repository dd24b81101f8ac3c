"""Decoding and checking uploaded image bytes (Pillow, plus pillow-heif for HEIC/HEIF)."""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from pictograph.errors import ValidationError

#: Declared content type -> the Pillow formats whose bytes may carry it.
SUPPORTED_TYPES: dict[str, frozenset[str]] = {
    "image/jpeg": frozenset({"JPEG", "MPO"}),
    "image/png": frozenset({"PNG"}),
    "image/gif": frozenset({"GIF"}),
    "image/bmp": frozenset({"BMP", "DIB"}),
    "image/webp": frozenset({"WEBP"}),
    "image/tiff": frozenset({"TIFF"}),
    "image/heic": frozenset({"HEIF"}),
    "image/heif": frozenset({"HEIF"}),
}

_ORIENTATION = 0x0112
_SWAPPED_ORIENTATIONS = frozenset({5, 6, 7, 8})


@dataclass(frozen=True)
class ImageInfo:
    """Displayed size (after EXIF orientation) and the format the bytes really hold."""

    width: int
    height: int
    format: str


def check_content_type(content_type: str) -> str:
    """The normalised content type, or ``ValidationError`` when we do not accept it."""
    normalised = content_type.split(";", 1)[0].strip().lower()
    if normalised == "image/jpg":
        normalised = "image/jpeg"
    if normalised not in SUPPORTED_TYPES:
        accepted = ", ".join(sorted(SUPPORTED_TYPES))
        raise ValidationError(
            f"unsupported content type {content_type!r}: expected one of {accepted}",
            status_code=400,
        )
    return normalised


@functools.cache
def _register_heif() -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()


def inspect_image(source: BinaryIO, declared_type: str) -> ImageInfo:
    """Fully decode the seekable file ``source`` and check it holds an image of ``declared_type``.

    Raises ``ValidationError`` when the file is empty, not decodable, truncated, or of another type.
    """
    _register_heif()
    if source.seek(0, 2) == 0:
        raise ValidationError("file is empty (0 bytes)")
    try:
        source.seek(0)
        with Image.open(source) as img:
            detected = img.format or "unknown"
            width, height = img.size
            if detected == "JPEG":
                # Decode at 1/8 scale: every byte of the scan is still read and checked, so a
                # truncated or corrupt file is still caught, at a fraction of the cost.
                img.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            img.load()
            orientation = img.getexif().get(_ORIENTATION)
    except UnidentifiedImageError:
        raise ValidationError("not a valid image: cannot identify image file") from None
    except Image.DecompressionBombError:
        raise ValidationError("image has too many pixels to decode safely") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise ValidationError("image data is truncated or corrupt") from None
    expected = SUPPORTED_TYPES.get(declared_type, frozenset())
    if detected not in expected:
        raise ValidationError(f"file contains {detected} data but was declared {declared_type}")
    if orientation in _SWAPPED_ORIENTATIONS:
        width, height = height, width
    return ImageInfo(width=width, height=height, format=detected)


def inspect_header(start: bytes, declared_type: str) -> ImageInfo:
    """Check that ``start``, the first bytes of a file too large to read here, begins an image
    of ``declared_type``, and read its displayed size from the header (no pixels decoded).

    Raises ``ValidationError`` when the header is not one of an image of that type.
    """
    _register_heif()
    try:
        with Image.open(io.BytesIO(start)) as img:
            detected = img.format or "unknown"
            width, height = img.size
            orientation = img.getexif().get(_ORIENTATION)
    except Image.DecompressionBombError:
        raise ValidationError("image has too many pixels to decode safely") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise ValidationError("not a valid image: cannot identify image file") from None
    if detected not in SUPPORTED_TYPES.get(declared_type, frozenset()):
        raise ValidationError(f"file contains {detected} data but was declared {declared_type}")
    if orientation in _SWAPPED_ORIENTATIONS:
        width, height = height, width
    return ImageInfo(width=width, height=height, format=detected)

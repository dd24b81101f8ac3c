"""Decoding and checking uploaded image bytes (Pillow, plus pillow-heif for HEIC/HEIF)."""

from __future__ import annotations

import functools
import io
import re
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
    """Check the seekable file ``source`` holds an image of ``declared_type``: JPEGs by their
    structure (segments, scan markers, end of image), other formats by a full decode.

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
                # Structure instead of pixels: header (Pillow, above), every segment up to the
                # scan, no invalid marker inside it, and an end-of-image marker after it. A
                # truncated file is caught; decoding the scan cost 3-10x more (make bench).
                _check_jpeg_structure(source)
            else:
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


#: A marker byte that may never follow 0xFF inside entropy-coded data (reserved markers).
_BAD_SCAN_MARKER = re.compile(rb"\xff[\x01-\xbf]")


def _check_jpeg_structure(source: BinaryIO) -> None:
    """``SyntaxError`` unless ``source`` is a JPEG whose segments chain from SOI to its first
    scan (SOS), whose scan holds no reserved marker, and which has an EOI marker after it."""
    source.seek(0)
    data = source.read()
    offset = 2  # after SOI, which Pillow has checked
    while True:
        if offset + 4 > len(data) or data[offset] != 0xFF:
            raise SyntaxError("JPEG segments do not chain to a scan")
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte before a marker
            offset += 1
            continue
        length = int.from_bytes(data[offset + 2 : offset + 4], "big")
        if length < 2:
            raise SyntaxError("JPEG segment with a bad length")
        offset += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
    end = data.find(b"\xff\xd9", offset)  # 0xFFD9 cannot occur inside a scan
    if end < offset:
        raise SyntaxError("JPEG has no end-of-image marker after its scan (truncated)")
    if _BAD_SCAN_MARKER.search(data, offset, end):
        raise SyntaxError("JPEG scan data holds an invalid marker")


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

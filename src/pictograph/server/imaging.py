"""Decoding and checking uploaded image bytes (Pillow, plus pillow-heif for HEIC/HEIF, and
``tifffile`` for TIFFs Pillow cannot read: ``tiff_pages.py``)."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError, _imaging

from pictograph.errors import ValidationError
from pictograph.image_structure import JpegStructureError, check_jpeg_structure
from pictograph.server.tiff_pages import check_layout, inspect_tiff, is_tiff

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


@dataclass
class DecodeBudget:
    """What decoding may cost, checked from the header before any pixel is decoded.

    An image over ``max_pixels`` is refused; one whose decoded pixels need more than
    ``max_bytes`` is refused; otherwise a decode waits until its pixels fit in ``max_bytes``
    beside the decodes running (at most ``slots`` at once), so eight huge images arriving
    together are decoded a few at a time instead of all at once.
    """

    max_pixels: int = 150_000_000
    max_bytes: int = 1024 * 1024 * 1024
    slots: int = field(default_factory=lambda: max(2, os.cpu_count() or 2))
    _used: int = 0
    _running: int = 0
    _turn: threading.Condition = field(default_factory=threading.Condition)

    def check_pixels(self, width: int, height: int) -> None:
        """``ValidationError`` (422) naming the limit when the image has too many pixels."""
        if width * height > self.max_pixels:
            raise ValidationError(
                f"image is {width} x {height} = {width * height:,} pixels, over this server's "
                f"limit of {self.max_pixels:,} pixels (serve --max-image-pixels)"
            )

    def check_fits(self, width: int, height: int, cost: int, kind: str) -> None:
        """``ValidationError`` (422) naming the limit when decoding a ``width`` x ``height``
        ``kind`` image into ``cost`` bytes could never fit (the check of ``reserve_bytes``,
        without waiting for room)."""
        self.check_pixels(width, height)
        if cost > self.max_bytes:
            raise ValidationError(
                f"decoding this {width} x {height} {kind} image needs {cost >> 20} MiB, over "
                f"this server's decode budget of {self.max_bytes >> 20} MiB "
                "(serve --decode-memory-mb)"
            )

    def check_image(self, img: Image.Image) -> None:
        """``check_fits`` for the opened ``img`` at its current size (what ``reserve`` checks)."""
        width, height = img.size
        self.check_fits(width, height, width * height * _bytes_per_pixel(img.mode), img.mode)

    @contextmanager
    def reserve(self, img: Image.Image) -> Iterator[None]:
        """Hold room for decoding ``img`` (at its current, possibly drafted, size) while the
        block runs. ``ValidationError`` (422) naming the limit when it can never fit."""
        width, height = img.size
        with self.reserve_bytes(
            width, height, width * height * _bytes_per_pixel(img.mode), img.mode
        ):
            yield

    @contextmanager
    def reserve_bytes(self, width: int, height: int, cost: int, kind: str) -> Iterator[None]:
        """Hold room for decoding a ``width`` x ``height`` ``kind`` image into ``cost`` bytes
        while the block runs. ``ValidationError`` (422) naming the limit when it can never fit."""
        self.check_fits(width, height, cost, kind)
        with self._turn:
            self._turn.wait_for(
                lambda: self._running < self.slots and self._used + cost <= self.max_bytes
            )
            self._used += cost
            self._running += 1
        try:
            yield
        finally:
            with self._turn:
                self._used -= cost
                self._running -= 1
                self._turn.notify_all()


def _bytes_per_pixel(mode: str) -> int:
    """Bytes Pillow keeps per pixel in memory (multi-band images use four)."""
    if mode in ("1", "L", "P"):
        return 1
    if mode.startswith("I;16"):
        return 2
    return 4


@functools.cache
def prepare_decoders() -> None:
    """Register HEIC/HEIF decoding and set how Pillow allocates pixels (once per process)."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    # Pixels in blocks above the C allocator's largest mmap threshold (32 MiB): each block is
    # mapped and unmapped on its own, so a freed image goes back to the system at once instead
    # of lingering in one thread's malloc arena (which let RSS grow past the decode budget).
    _imaging.set_block_size(64 * 1024 * 1024)


def inspect_image(source: BinaryIO, declared_type: str, budget: DecodeBudget) -> ImageInfo:
    """Check the seekable file ``source`` holds an image of ``declared_type``: JPEGs by their
    structure (segments, scan markers, end of image) after their size is checked against the
    budget's pixel limit, other formats by a full decode within ``budget``.

    The decode waits for room in ``budget`` (the server's: ``AppContext.decoding``). Raises
    ``ValidationError`` when the file is empty, not decodable, truncated, of another type, or
    over the budget's limits.
    """
    prepare_decoders()
    if source.seek(0, 2) == 0:
        raise ValidationError("file is empty (0 bytes)")
    if declared_type == "image/tiff" and is_tiff(source):
        # Pillow decodes the first page only: every page must be whole (read before Pillow,
        # which closes the file after a many-page decode).
        check_layout(source)
    try:
        source.seek(0)
        with Image.open(source) as img:
            detected = img.format or "unknown"
            width, height = img.size
            if detected == "JPEG":
                # Structure instead of pixels: header (Pillow, above), every segment up to the
                # scan, no invalid marker inside it, and an end-of-image marker after it. A
                # truncated file is caught; decoding the scan cost 3-10x more (make bench).
                budget.check_pixels(width, height)
                _check_jpeg_structure(source)
                orientation = img.getexif().get(_ORIENTATION)
            else:
                with budget.reserve(img):
                    img.load()
                    orientation = img.getexif().get(_ORIENTATION)
                    img.close()  # frees the pixels before the next decode may take their room
    except UnidentifiedImageError:
        if declared_type == "image/tiff" and is_tiff(source):
            return _other_tiff(source, budget)
        raise ValidationError("not a valid image: cannot identify image file") from None
    except Image.DecompressionBombError:
        raise ValidationError(TOO_MANY_PIXELS) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        if declared_type == "image/tiff" and is_tiff(source):
            return _other_tiff(source, budget)
        raise ValidationError(TRUNCATED) from None
    check_declared(detected, declared_type)
    return displayed(width, height, orientation, detected)


#: Why bytes Pillow could not read (or a JPEG whose structure is broken) are refused.
TRUNCATED = "image data is truncated or corrupt"
#: Why an image over Pillow's decompression-bomb limit is refused.
TOO_MANY_PIXELS = "image has more pixels than the image library decodes (about 179 million)"
#: The EXIF tag giving a JPEG's orientation.
ORIENTATION = _ORIENTATION


def check_declared(detected: str, declared_type: str) -> None:
    """``ValidationError`` unless Pillow's format ``detected`` may carry ``declared_type``."""
    if detected not in SUPPORTED_TYPES.get(declared_type, frozenset()):
        raise ValidationError(f"file contains {detected} data but was declared {declared_type}")


def displayed(width: int, height: int, orientation: object, detected: str) -> ImageInfo:
    """The ``ImageInfo`` of a stored ``width`` x ``height`` image shown with its EXIF
    ``orientation`` (5-8 swap the sides)."""
    if orientation in _SWAPPED_ORIENTATIONS:
        width, height = height, width
    return ImageInfo(width=width, height=height, format=detected)


def _other_tiff(source: BinaryIO, budget: DecodeBudget) -> ImageInfo:
    """A TIFF Pillow cannot read (planar, floating-point, ...): checked with ``tifffile``."""
    width, height = inspect_tiff(source, budget)
    return ImageInfo(width=width, height=height, format="TIFF")


def _check_jpeg_structure(source: BinaryIO) -> None:
    """``SyntaxError`` unless ``source`` is a whole JPEG (``check_jpeg_structure``)."""
    source.seek(0)
    try:
        check_jpeg_structure(source.read())
    except JpegStructureError as error:
        raise SyntaxError(str(error)) from None

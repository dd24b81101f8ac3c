"""The image check of an upload run while its bytes stream to the blob writer, so the blob is
made durable only once the check passed, and never read back after that.

``StreamCheck.feed`` takes each chunk as it is written; ``finish`` gives the ``ImageInfo``, or
raises the ``ValidationError`` ``inspect_image`` (``imaging.py``, the one source of verdicts)
raises for the same bytes:

- The header is judged as soon as it has arrived (Pillow opens the bytes so far, kept up to
  ``HEADER_LIMIT``): a format the declared type cannot carry, too many pixels, or a decode that
  could never fit the budget is refused then, before the rest of the body is written. (When such
  a body is also damaged further on, ``inspect_image`` of the whole would name the damage
  instead; either way it is refused.)
- A JPEG (the formats most large uploads are) is then checked as it streams: its structure
  (``JpegStructureWalk``, the incremental form of ``check_jpeg_structure``) keeps a few bytes,
  not the file, and a broken structure is refused at the chunk that shows it.
- Every other format (PNG, GIF, BMP, WebP, TIFF, HEIC/HEIF, and MPO, which ``inspect_image``
  fully decodes) needs the whole file to decode, or random access (a TIFF's directories may sit
  at its end): ``finish`` runs ``inspect_image`` on the bytes the writer staged, before they are
  committed (``BlobWriter.staged``). That is the writer's own copy, not a second one, and it is
  read before the fsync, never after.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import BinaryIO

from PIL import Image

from pictograph.errors import ValidationError
from pictograph.image_structure import JPEG_SOI, JpegStructureWalk
from pictograph.server.imaging import (
    ORIENTATION,
    TOO_MANY_PIXELS,
    TRUNCATED,
    DecodeBudget,
    ImageInfo,
    check_declared,
    displayed,
    inspect_image,
    prepare_decoders,
)
from pictograph.server.tiff_pages import is_tiff

#: Bytes of a body's start kept for judging its header; past this the header is judged at the
#: end, by ``inspect_image`` (a JPEG's header is everything before its first scan).
HEADER_LIMIT = 1024 * 1024
#: The header of a format other than JPEG is tried at 4 KiB, then each time the bytes doubled.
_FIRST_TRY = 4096


class StreamCheck:
    """The check of one body of ``declared_type`` (normalised), fed as it arrives."""

    def __init__(self, declared_type: str, budget: DecodeBudget) -> None:
        self._declared = declared_type
        self._budget = budget
        self._size = 0
        self._head: bytearray | None = bytearray()  # None once the header is judged or left
        self._next_try = _FIRST_TRY
        self._walk: JpegStructureWalk | None = JpegStructureWalk()  # while it may be a JPEG
        self._jpeg: ImageInfo | None = None  # the header of a JPEG checked as it streams

    def feed(self, chunk: bytes) -> None:
        """Take the next chunk; ``ValidationError`` as soon as the bytes so far are refused."""
        if not chunk:
            return
        self._size += len(chunk)
        walk = self._walk
        if walk is not None:
            walk.feed(chunk)
            if self._jpeg is not None and walk.error is not None:
                raise ValidationError(TRUNCATED)
        if self._head is not None:
            self._head += chunk
            self._judge_header()

    def finish(self, staged: Callable[[], BinaryIO]) -> ImageInfo:
        """The image's ``ImageInfo`` once every chunk was fed, or the ``ValidationError`` of
        ``inspect_image``. ``staged`` opens the bytes written so far (uncommitted); it is called
        only for a body that was not checked as it streamed."""
        if self._jpeg is not None and self._walk is not None:
            if self._walk.done and self._walk.error is None:
                return self._jpeg
            raise ValidationError(TRUNCATED)
        with staged() as source:
            return inspect_image(source, self._declared, self._budget)

    def _judge_header(self) -> None:
        head = self._head
        assert head is not None
        walk = self._walk
        if walk is not None and len(head) >= 2 and not head.startswith(JPEG_SOI):
            self._walk = walk = None  # not a JPEG: its structure is not walked
        if walk is not None:
            if walk.error is not None and walk.scan_at is None:
                self._leave_header()  # inspect_image gives the verdict of a broken header
                return
            ready = walk.scan_at is not None and len(head) >= walk.scan_at
        elif self._declared == "image/tiff" and is_tiff(io.BytesIO(head)):
            # Layout first, then Pillow or tifffile (``inspect_image``): judged at the end.
            self._leave_header()
            return
        else:
            ready = len(head) >= self._next_try
            if ready:
                self._next_try = 2 * len(head)
        if ready:
            self._open_header(bytes(head), final=walk is not None)
        elif len(head) >= HEADER_LIMIT:
            self._leave_header()

    def _open_header(self, head: bytes, final: bool) -> None:
        """Judge the header Pillow reads from ``head``; a header not all there yet is tried
        again later, unless ``final`` (a JPEG's whole header was there)."""
        prepare_decoders()
        try:
            img = Image.open(io.BytesIO(head))
        except Image.DecompressionBombError:
            raise ValidationError(TOO_MANY_PIXELS) from None
        except Exception:  # not all there yet, or not an image: inspect_image will say
            if final or len(head) >= HEADER_LIMIT:
                self._leave_header()
            return
        with img:
            self._leave_header()
            detected = img.format or "unknown"
            width, height = img.size
            if detected != "JPEG":
                # MPO and other formats: decoded whole by inspect_image at the end.
                self._walk = None
                self._budget.check_image(img)
                check_declared(detected, self._declared)
                return
            self._budget.check_pixels(width, height)
            try:
                orientation = img.getexif().get(ORIENTATION)
            except (OSError, SyntaxError, ValueError, EOFError):
                raise ValidationError(TRUNCATED) from None
            check_declared(detected, self._declared)
            self._jpeg = displayed(width, height, orientation, detected)
        if self._walk is not None and self._walk.error is not None:
            raise ValidationError(TRUNCATED)

    def _leave_header(self) -> None:
        self._head = None

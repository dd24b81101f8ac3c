"""TIFFs Pillow cannot open (planar, floating-point, many-page scientific files), read with
``tifffile``: the check of an upload (every page decoded within the decode budget) and an 8-bit
preview of the first page for thumbnails and descriptors.

A TIFF is refused when its chain of pages is cut (a page's offset past the end), when any
page's data runs past the end of the file, or when a page does not decode.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, BinaryIO

from PIL import Image

from pictograph.errors import ValidationError

if TYPE_CHECKING:
    from pictograph.server.imaging import DecodeBudget

#: Byte order marks and version of a classic TIFF (42) and of a BigTIFF (43).
_MAGIC = {b"II*\x00": "<", b"MM\x00*": ">", b"II+\x00": "<", b"MM\x00+": ">"}
_TRUNCATED = "TIFF data is truncated or corrupt"


def is_tiff(source: BinaryIO) -> bool:
    """True when ``source`` starts like a TIFF (classic or BigTIFF)."""
    source.seek(0)
    return source.read(4) in _MAGIC


def page_count(source: BinaryIO) -> int:
    """The pages in the file's chain of image directories; ``ValidationError`` when the chain
    points past the end of the file or loops (a truncated or corrupt file)."""
    size = source.seek(0, 2)
    source.seek(0)
    head = source.read(16)
    order = _MAGIC.get(head[:4])
    if order is None:
        raise ValidationError("not a TIFF file")
    big = head[2:4] in (b"+\x00", b"\x00+")
    offset_format, count_format, entry = ("Q", "Q", 20) if big else ("I", "H", 12)
    offset = struct.unpack_from(order + offset_format, head, 8 if big else 4)[0]
    seen: set[int] = set()
    while offset:
        if offset in seen or offset + 2 > size:
            raise ValidationError(f"{_TRUNCATED}: a page's directory is past the end of the file")
        seen.add(offset)
        source.seek(offset)
        width = struct.calcsize(count_format)
        (count,) = struct.unpack(order + count_format, source.read(width))
        next_at = offset + width + count * entry
        source.seek(next_at)
        raw = source.read(struct.calcsize(offset_format))
        if len(raw) != struct.calcsize(offset_format):
            raise ValidationError(f"{_TRUNCATED}: a page's directory is cut off")
        (offset,) = struct.unpack(order + offset_format, raw)
    if not seen:
        raise ValidationError(f"{_TRUNCATED}: the file has no page")
    return len(seen)


@contextmanager
def _opened(source: BinaryIO) -> Iterator[Any]:
    import tifffile

    source.seek(0)
    try:
        with tifffile.TiffFile(source) as tiff:
            yield tiff
    except ValidationError:
        raise
    except Exception as error:  # tifffile raises many kinds for a damaged file
        raise ValidationError(f"{_TRUNCATED}: {type(error).__name__}") from None


def check_layout(source: BinaryIO) -> None:
    """``ValidationError`` unless the TIFF ``source``'s chain of pages is whole and every page's
    data lies inside the file (no pixel decoded): a file cut in a later page, which a reader of
    the first page alone would take, is refused."""
    with _pages(source):
        pass


@contextmanager
def _pages(source: BinaryIO) -> Iterator[Any]:
    """The file's pages (tifffile), once its layout is checked."""
    pages = page_count(source)
    size = source.seek(0, 2)
    with _opened(source) as tiff:
        if len(tiff.pages) != pages:
            raise ValidationError(f"{_TRUNCATED}: {pages} pages chained, {len(tiff.pages)} read")
        for page in tiff.pages:
            ends = (o + n for o, n in zip(page.dataoffsets, page.databytecounts, strict=False))
            if any(end > size for end in ends):
                raise ValidationError(f"{_TRUNCATED}: a page's data runs past the end of the file")
        yield tiff.pages


def inspect_tiff(source: BinaryIO, budget: DecodeBudget) -> tuple[int, int]:
    """Width and height of the first page of the TIFF ``source``, after every page is checked:
    the chain of pages whole, each page's data inside the file, each decoded within
    ``budget``. ``ValidationError`` otherwise."""
    with _pages(source) as pages:
        for page in pages:
            with budget.reserve_bytes(page.imagewidth, page.imagelength, page.nbytes, "TIFF"):
                page.asarray()
        return int(pages[0].imagewidth), int(pages[0].imagelength)


def preview(source: BinaryIO, budget: DecodeBudget) -> Image.Image:
    """The first page of the TIFF ``source`` as an 8-bit picture (grey, or RGB from its first
    three samples), its values stretched from their minimum to their maximum."""
    import numpy as np

    with _opened(source) as tiff:
        page = tiff.pages[0]
        with budget.reserve_bytes(page.imagewidth, page.imagelength, page.nbytes * 2, "TIFF"):
            planes = page.asarray().reshape(page.shaped)[:, 0]  # samples, length, width, samples
            pixels = np.moveaxis(planes, 0, -1).reshape(
                page.imagelength, page.imagewidth, planes.shape[0] * planes.shape[-1]
            )
            pixels = pixels[..., :3] if pixels.shape[-1] >= 3 else pixels[..., :1]
            values = np.nan_to_num(pixels.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
            low, high = float(values.min()), float(values.max())
            scaled = (values - low) * (255.0 / (high - low)) if high > low else values * 0
            eight = np.ascontiguousarray(scaled.clip(0, 255).astype(np.uint8))
    if eight.shape[-1] == 3:
        return Image.fromarray(eight, "RGB")
    return Image.fromarray(eight[..., 0], "L")


def encoded_preview(source: BinaryIO, budget: DecodeBudget) -> io.BytesIO:
    """:func:`preview` as a PNG in memory, for code that opens images with Pillow."""
    out = io.BytesIO()
    preview(source, budget).save(out, "PNG")
    out.seek(0)
    return out

"""Smaller JPEG renditions of images (thumbnails, previews), made once and cached on disk.

Renditions are keyed by the image's SHA-256 and size, so identical bytes share one file and an
image's rendition never goes stale (stored bytes are never replaced in place).
"""

from __future__ import annotations

import functools
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from pictograph.errors import NotFoundError, ValidationError
from pictograph.server.imaging import DecodeBudget, prepare_decoders
from pictograph.server.service import images, presigned
from pictograph.server.service.context import AppContext, Links
from pictograph.server.service.workload import Wanted, always
from pictograph.server.store.blobs import DirectBlobStore
from pictograph.server.tiff_pages import encoded_preview, is_tiff

THUMBNAIL = 256
PREVIEW = 1280
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Rendition:
    """A cached JPEG (a file here, or a presigned URL of an object in the bucket) and the tag
    that names its content."""

    path: Path | None
    etag: str
    url: str | None = None


def rendition(
    store: AppContext,
    organization_id: str,
    image_id: str,
    links: Links,
    size: int,
    wanted: Wanted = always,
) -> Rendition:
    """The JPEG of the organisation's image ``image_id`` fitting ``size`` x ``size`` pixels.

    Made on first request and kept under ``<home>/thumbnails``, or with ``s3://`` storage in the
    bucket (so no replica needs a disk of its own). ``NotFoundError`` when the image is not the
    organisation's or its bytes are missing. Made within ``store.work``'s bounds (a page asks
    for up to 60 at once; one decode per rendition in flight, the others wait for it and then
    hit the cache); ``ClientGone`` when ``wanted()`` turns false while it waits its turn.
    """
    image = images.get_by_id(store, organization_id, image_id, links)
    if image.sha256 is None or not _SHA256.match(image.sha256):
        raise NotFoundError(f"image {image_id!r} has no stored bytes")
    flight = f"rendition:{image.sha256}-{size}"
    if (direct := presigned.direct_store(store)) is not None:
        name = f"thumbnails/{image.sha256[:2]}/{image.sha256}-{size}.jpg"
        url = direct.derived_url(name, expires_in=store.settings.signed_url_ttl_seconds)
        if url is None:
            put = functools.partial(_in_bucket, store, direct, image.id, name, size)
            url = store.work.run(flight, put, organization=organization_id, wanted=wanted)
        return Rendition(path=None, etag=f'"{image.sha256}-{size}"', url=url)
    target = store.settings.home / "thumbnails" / image.sha256[:2] / f"{image.sha256}-{size}.jpg"
    if not target.is_file():
        source = images.image_file_by_id(store, image.id)

        def make() -> None:
            if not target.is_file():  # another request may have made it while we waited
                with store.blobs.open(source.key) as opened:
                    _write(_decoded(opened, size, store.decoding), target)

        store.work.run(flight, make, organization=organization_id, wanted=wanted)
    return Rendition(path=target, etag=f'"{image.sha256}-{size}"')


def _in_bucket(
    store: AppContext, blobs: DirectBlobStore, image_id: str, name: str, size: int
) -> str:
    """A presigned URL of the rendition ``name`` in the bucket, made and put there first."""
    ttl = store.settings.signed_url_ttl_seconds
    url = blobs.derived_url(name, expires_in=ttl)  # another request may have made it meanwhile
    if url is None:
        source = images.image_file_by_id(store, image_id)
        with store.blobs.open(source.key) as opened:
            encoded = io.BytesIO()
            _decoded(opened, size, store.decoding).save(encoded, "JPEG", quality=82, optimize=True)
        blobs.put_derived(name, encoded.getvalue(), "image/jpeg")
        url = blobs.derived_url(name, expires_in=ttl)
        if url is None:
            raise NotFoundError("the rendition could not be stored")
    return url


def _decoded(source: BinaryIO, size: int, budget: DecodeBudget) -> PILImage.Image:
    """``source`` upright, shrunk to fit ``size``, in RGB; ``NotFoundError`` when undecodable.

    Huge images are shrunk while decoding where the format allows (JPEG's draft mode decodes
    at 1/2 to 1/8 scale), then reduced before being turned upright, and the decode waits for
    room in ``budget``.
    """
    prepare_decoders()
    try:
        with PILImage.open(source) as opened:
            opened.draft("RGB", (size, size))  # lets JPEG decoding skip most of the pixels
            with budget.reserve(opened):
                opened.thumbnail((size, size))  # reduce() by whole factors, then resample
            return _flattened(ImageOps.exif_transpose(opened))
    except ValidationError as error:
        raise NotFoundError(f"the image is too large to display: {error.message}") from None
    except (UnidentifiedImageError, PILImage.DecompressionBombError):
        if is_tiff(source):
            return _tiff_decoded(source, size, budget)
        raise NotFoundError("the image cannot be decoded for display") from None
    except (OSError, ValueError, SyntaxError, EOFError):
        if is_tiff(source):
            return _tiff_decoded(source, size, budget)
        raise NotFoundError("the image data is truncated or corrupt") from None


def _tiff_decoded(source: BinaryIO, size: int, budget: DecodeBudget) -> PILImage.Image:
    """A TIFF Pillow cannot read, from an 8-bit rendering of its first page (``tifffile``)."""
    try:
        rendered = encoded_preview(source, budget)
    except ValidationError as error:
        raise NotFoundError(f"the image cannot be decoded for display: {error.message}") from None
    return _decoded(rendered, size, budget)


def _write(picture: PILImage.Image, target: Path) -> None:
    """Save ``picture`` as JPEG at ``target`` atomically (temporary file, then rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".thumb-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            picture.save(out, "JPEG", quality=82, optimize=True)
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def _flattened(picture: PILImage.Image) -> PILImage.Image:
    """RGB with any transparency laid over white (JPEG has no alpha)."""
    if picture.mode in ("RGBA", "LA") or "transparency" in picture.info:
        rgba = picture.convert("RGBA")
        background = PILImage.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return picture.convert("RGB")

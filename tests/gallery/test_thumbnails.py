"""Thumbnails and previews: small JPEGs made on first request, cached on disk, revalidated."""

from __future__ import annotations

import io

from PIL import Image

from tests.gallery.conftest import Gallery
from tests.images import make_image
from tests.server import flows


def _upload(gallery: Gallery, key: str, name: str, size: tuple[int, int]) -> str:
    path = make_image(gallery.home / "source" / name, size=size)
    return str(flows.upload(gallery.api(key), "birds", path, "/")["id"])


def test_a_thumbnail_is_a_jpeg_within_256_px_made_once_then_served_from_the_cache(
    keyed: Gallery,
) -> None:
    _, key = keyed.create_key("acme")
    flows.create_dataset(keyed.api(key), "birds")
    image_id = _upload(keyed, key, "wide.png", (600, 400))
    keyed.sign_in(key)

    first = keyed.browser.get(f"/images/{image_id}/thumbnail")

    assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
    assert "private" in first.headers["cache-control"]
    assert "max-age=" in first.headers["cache-control"]
    with Image.open(io.BytesIO(first.content)) as thumb:
        assert thumb.format == "JPEG" and thumb.size == (256, 171)
    [cached] = list((keyed.home / "thumbnails").rglob("*.jpg"))
    made = cached.stat().st_mtime_ns

    second = keyed.browser.get(f"/images/{image_id}/thumbnail")
    assert second.content == first.content and cached.stat().st_mtime_ns == made
    etag = first.headers["etag"]
    again = keyed.browser.get(f"/images/{image_id}/thumbnail", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""


def test_previews_are_larger_jpegs_and_heic_images_get_them_too(keyed: Gallery) -> None:
    _, key = keyed.create_key("acme")
    flows.create_dataset(keyed.api(key), "birds")
    big = _upload(keyed, key, "big.png", (2000, 1000))
    heic = _upload(keyed, key, "phone.heic", (300, 200))
    keyed.sign_in(key)

    preview = keyed.browser.get(f"/images/{big}/preview")
    with Image.open(io.BytesIO(preview.content)) as shown:
        assert shown.format == "JPEG" and shown.size == (1280, 640)
    expected = {"thumbnail": (256, 171), "preview": (300, 200)}
    for kind in ("thumbnail", "preview"):
        response = keyed.browser.get(f"/images/{heic}/{kind}")
        assert response.status_code == 200, kind
        with Image.open(io.BytesIO(response.content)) as shown:
            assert shown.format == "JPEG" and shown.size == expected[kind]


def test_image_bytes_need_a_session(keyed: Gallery) -> None:
    _, key = keyed.create_key("acme")
    flows.create_dataset(keyed.api(key), "birds")
    image_id = _upload(keyed, key, "a.png", (64, 64))
    for kind in ("thumbnail", "preview", "file"):
        assert keyed.browser.get(f"/images/{image_id}/{kind}").status_code == 401
    assert not (keyed.home / "thumbnails").exists()


def test_damaged_stored_bytes_give_a_404_thumbnail_and_cache_nothing(keyed: Gallery) -> None:
    _, key = keyed.create_key("acme")
    flows.create_dataset(keyed.api(key), "birds")
    image_id = _upload(keyed, key, "a.png", (64, 64))
    for blob in flows.stored_files(keyed.home / "blobs"):
        blob.write_bytes(b"not an image any more")
    keyed.sign_in(key)

    assert keyed.browser.get(f"/images/{image_id}/thumbnail").status_code == 404
    assert list((keyed.home / "thumbnails").rglob("*.jpg")) == []

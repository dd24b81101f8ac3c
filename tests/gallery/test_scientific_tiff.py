"""TIFFs Pillow cannot open (planar float32 RGB, several pages, as scikit-image's
``multipage_rgb.tif``) are accepted, checked page by page with tifffile, and get thumbnails and
descriptors; a truncated one is refused and nothing of it is stored."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image, UnidentifiedImageError

from pictograph.server.imaging import DecodeBudget
from pictograph.server.service import descriptors
from tests.gallery.conftest import Gallery
from tests.images import sha256_of
from tests.server import flows


def planar_float_tiff(path: Path, pages: int = 2, size: tuple[int, int] = (60, 40)) -> Path:
    """Red left half, blue right half in page one; float32 values in [0, 1], planes apart."""
    width, height = size
    data = np.zeros((pages, 3, height, width), dtype=np.float32)
    data[0, 0, :, : width // 2] = 1.0
    data[0, 2, :, width // 2 :] = 0.75
    data[1:] = np.random.default_rng(1).random((pages - 1, 3, height, width), dtype=np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, data, photometric="rgb", planarconfig="separate")
    return path


def test_pillow_cannot_open_the_file_these_tests_use(tmp_path: Path) -> None:
    path = planar_float_tiff(tmp_path / "multipage_rgb.tif")
    with pytest.raises(UnidentifiedImageError):
        Image.open(path)
    with tifffile.TiffFile(path) as tiff:
        assert len(tiff.pages) == 2 and tiff.pages[0].planarconfig == 2
        assert tiff.pages[0].dtype == np.float32


def test_a_planar_float_multipage_tiff_is_accepted_with_a_thumbnail_and_a_descriptor(
    keyed: Gallery,
) -> None:
    _, key = keyed.create_key("acme")
    api = keyed.api(key)
    flows.create_dataset(api, "science")
    path = planar_float_tiff(keyed.home / "source" / "multipage_rgb.tif")
    image = flows.upload(api, "science", path, "/")
    keyed.sign_in(key)
    thumbnail = keyed.browser.get(f"/images/{image['id']}/thumbnail")

    assert (image["width"], image["height"]) == (60, 40)
    assert image["sha256"] == sha256_of(path)
    assert thumbnail.status_code == 200, thumbnail.text
    with Image.open(io.BytesIO(thumbnail.content)) as thumb:
        assert thumb.format == "JPEG" and thumb.size == (60, 40)
        left, right = thumb.convert("RGB").getpixel((5, 20)), thumb.getpixel((55, 20))
    assert left[0] > 200 and left[2] < 60  # the first page's red half, stretched to 8 bits
    assert right[2] > 150 and right[0] < 60  # its blue half
    described = descriptors.describe(path, DecodeBudget())
    assert len(described) == 16 + 96


def test_a_truncated_tiff_is_refused_and_nothing_is_registered(keyed: Gallery) -> None:
    _, key = keyed.create_key("acme")
    api = keyed.api(key)
    flows.create_dataset(api, "science")
    whole = planar_float_tiff(keyed.home / "source" / "whole.tif", pages=3).read_bytes()
    cut = keyed.home / "source" / "cut.tif"
    cut.write_bytes(whole[: len(whole) // 2])

    url = flows.upload_url(api, "science", "cut.tif", "/", "image/tiff").json()["data"]
    put = api.put(
        url["upload_url"], content=cut.read_bytes(), headers={"content-type": "image/tiff"}
    )
    registered = flows.register(api, "science", "cut.tif")
    listed = api.get(f"{flows.P}/images/", params={"dataset": "science"}).json()["data"]

    assert put.status_code == 200  # a three-step URL: register gives the 422 (issue 22)
    assert "TIFF data is truncated or corrupt" in put.json()["refused"]["message"]
    assert registered.status_code == 422
    assert "TIFF data is truncated or corrupt" in registered.json()["error"]["message"]
    assert listed == []


def test_a_tiff_pillow_reads_is_refused_when_a_later_page_is_cut(keyed: Gallery) -> None:
    _, key = keyed.create_key("acme")
    api = keyed.api(key)
    flows.create_dataset(api, "science")
    source = keyed.home / "source"
    source.mkdir(parents=True)
    pages = [Image.new("RGB", (64, 48), (n * 60, 20, 200 - n * 60)) for n in range(3)]
    pages[0].save(source / "pages.tif", save_all=True, append_images=pages[1:])
    whole = (source / "pages.tif").read_bytes()
    with tifffile.TiffFile(source / "pages.tif") as tiff:
        last = tiff.pages[-1]
        cut_at = last.dataoffsets[0] + last.databytecounts[0] // 2
    with Image.open(source / "pages.tif") as first_page:
        assert first_page.n_frames == 3
    (source / "cut.tif").write_bytes(whole[:cut_at])

    accepted = flows.upload(api, "science", source / "pages.tif", "/")
    url = flows.upload_url(api, "science", "cut.tif", "/", "image/tiff").json()["data"]
    put = api.put(
        url["upload_url"],
        content=(source / "cut.tif").read_bytes(),
        headers={"content-type": "image/tiff"},
    )
    registered = flows.register(api, "science", "cut.tif")

    assert (accepted["width"], accepted["height"]) == (64, 48)
    assert put.status_code == 200, put.text  # a three-step URL: register gives the 422
    assert "TIFF data is truncated or corrupt" in put.json()["refused"]["message"]
    assert registered.status_code == 422
    assert "TIFF data is truncated or corrupt" in registered.json()["error"]["message"]

"""``pictograph images list|download``: filters, JSON, and fetching one image's bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.runner import Pictograph, expect, one_error_line
from tests.images import sha256_of


@pytest.fixture
def signs(pictograph: Pictograph, road_signs: Path) -> str:
    expect(pictograph("upload", road_signs, "--dataset", "signs", "-q"), 0)
    return "signs"


def test_images_are_listed_by_folder_with_a_limit(pictograph: Pictograph, signs: str) -> None:
    stop = pictograph.json("images", "list", signs, "--folder", "/stop")
    assert sorted(i["filename"] for i in stop) == ["001.jpg", "002.jpg", "003.png"]
    assert {i["directory_path"] for i in stop} == {"/stop"}
    assert len(pictograph.json("images", "list", signs, "-f", "stop/", "-n", "2")) == 2
    assert len(pictograph.json("images", "list", signs)) == 6
    table = expect(pictograph("images", "list", signs, "--folder", "/yield"), 0).stdout
    assert "/yield/004.jpg" in table and "/stop/" not in table


def test_an_unknown_dataset_or_folder_exits_4(pictograph: Pictograph, signs: str) -> None:
    assert "nope" in one_error_line(expect(pictograph("images", "list", "nope"), 4))
    missing = expect(pictograph("images", "list", signs, "--folder", "/nope"), 4)
    assert "/nope" in one_error_line(missing)


def test_an_image_downloads_by_path_by_bare_filename_and_by_id(
    pictograph: Pictograph, signs: str, road_signs: Path, tmp_path: Path
) -> None:
    original = sha256_of(road_signs / "stop" / "002.jpg")
    by_path = tmp_path / "by_path.jpg"
    expect(pictograph("images", "download", signs, "stop/002.jpg", by_path), 0)
    assert sha256_of(by_path) == original

    into = tmp_path / "into"
    into.mkdir()
    expect(pictograph("images", "download", signs, "002.jpg", into), 0)
    assert sha256_of(into / "002.jpg") == original

    image = pictograph.json("images", "list", signs, "--folder", "/stop")[0]
    by_id = tmp_path / "by_id"
    expect(pictograph("images", "download", signs, image["id"], by_id), 0)
    assert sha256_of(by_id) == image["sha256"]


def test_an_unknown_image_exits_4_and_writes_nothing(
    pictograph: Pictograph, signs: str, tmp_path: Path
) -> None:
    result = expect(pictograph("images", "download", signs, "stop/nope.jpg", tmp_path / "x"), 4)
    one_error_line(result)
    assert not (tmp_path / "x").exists()

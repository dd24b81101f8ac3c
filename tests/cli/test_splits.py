"""``pictograph images assign-splits|split``: deterministic percentages, one image's split."""

from __future__ import annotations

from pathlib import Path

from tests.cli.runner import Pictograph, expect, one_error_line
from tests.images import make_image


def _splits(pictograph: Pictograph, dataset: str) -> dict[str, str | None]:
    listed = pictograph.json("images", "list", dataset, "--all")
    return {f"{i['directory_path']}/{i['filename']}": i["split"] for i in listed}


def test_assign_splits_80_10_10_is_the_same_for_the_same_seed(
    pictograph: Pictograph, tmp_path: Path
) -> None:
    for n in range(20):
        make_image(tmp_path / "twenty" / f"{n:02}.png", size=(8, 8), seed=n)
    expect(pictograph("upload", tmp_path / "twenty", "--dataset", "twenty", "-q"), 0)
    args = ("images", "assign-splits", "twenty", "--train", "80", "--val", "10", "--test", "10")
    first = expect(pictograph(*args, "--seed", "7"), 0).stdout
    assert "Split 20 images: train 16, val 2, test 2 (seed 7)." in first
    once = _splits(pictograph, "twenty")
    assert sorted(once.values()) == ["test"] * 2 + ["train"] * 16 + ["val"] * 2
    expect(pictograph(*args, "--seed", "8"), 0)
    other = _splits(pictograph, "twenty")
    assert other != once  # another seed shuffles differently (20 choose 2,2: no clash here)
    counts = pictograph.json(*args, "--seed", "7", "--json")
    assert counts == {"processed": 20, "train": 16, "val": 2, "test": 2}
    assert _splits(pictograph, "twenty") == once


def test_one_image_is_put_in_a_split_and_cleared(pictograph: Pictograph, tmp_path: Path) -> None:
    make_image(tmp_path / "one" / "stop" / "a.png", size=(8, 8))
    expect(pictograph("upload", tmp_path / "one", "--dataset", "one", "-q"), 0)
    said = expect(pictograph("images", "split", "one", "stop/a.png", "val"), 0).stdout
    assert "stop/a.png is now in val." in said
    assert _splits(pictograph, "one") == {"/stop/a.png": "val"}
    expect(pictograph("images", "split", "one", "stop/a.png", "none"), 0)
    assert _splits(pictograph, "one") == {"/stop/a.png": None}
    missing = expect(pictograph("images", "split", "one", "stop/b.png", "train"), 4)
    assert "b.png" in one_error_line(missing)
    expect(pictograph("images", "split", "one", "stop/a.png", "holdout"), 6)

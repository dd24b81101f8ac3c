"""``pictograph trash``: list, restore, purge what was deleted; ``gc`` empties what expired."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.cli.runner import Pictograph, expect, one_error_line


def _digests(folder: Path) -> dict[str, str]:
    """File name -> SHA-256 of every image under ``folder`` (the names are unique here)."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in folder.rglob("*")
        if path.is_file() and not path.name.startswith(".")
    }


def test_a_deleted_dataset_is_listed_restored_byte_identical_and_purged(
    pictograph: Pictograph, road_signs: Path, tmp_path: Path
) -> None:
    expect(pictograph("upload", road_signs, "-d", "signs", "-q"), 0)
    deleted = expect(pictograph("datasets", "delete", "signs", "--yes"), 0)
    assert "to the trash" in deleted.stdout
    expect(pictograph("datasets", "show", "signs"), 4)

    [item] = pictograph.json("trash", "list")
    assert (item["kind"], item["name"], item["image_count"]) == ("dataset", "signs", 6)
    table = expect(pictograph("trash", "list"), 0).stdout
    assert "signs" in table and item["id"] in table

    expect(pictograph("datasets", "create", "signs"), 0)
    clash = expect(pictograph("trash", "restore", "dataset", item["id"]), 5)
    assert "new_name" in one_error_line(clash)
    restored = expect(pictograph("trash", "restore", "dataset", item["id"], "--name", "old"), 0)
    assert "Restored dataset old (6 images)" in restored.stdout
    expect(pictograph("download", "old", tmp_path / "copy", "-q"), 0)
    assert _digests(tmp_path / "copy") == _digests(road_signs)
    assert pictograph.json("trash", "list") == []

    expect(pictograph("datasets", "delete", "old", "--yes"), 0)
    [again] = pictograph.json("trash", "list")
    expect(pictograph("trash", "purge", "dataset", again["id"]), 6)  # no --yes off a terminal
    purged = expect(pictograph("trash", "purge", "dataset", again["id"], "-y"), 0)
    assert "Purged dataset old (6 images)" in purged.stdout
    assert pictograph.json("trash", "list") == []
    missing = expect(pictograph("trash", "restore", "dataset", again["id"]), 4)
    assert again["id"] in one_error_line(missing)


def test_permanent_delete_skips_the_trash(pictograph: Pictograph, road_signs: Path) -> None:
    expect(pictograph("upload", road_signs, "-d", "signs", "-q"), 0)
    deleted = expect(pictograph("datasets", "delete", "signs", "--yes", "--permanent"), 0)
    assert "Deleted dataset signs (6 images)" in deleted.stdout
    assert pictograph.json("trash", "list") == []


def test_gc_removes_what_outlived_the_retention(road_signs: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    pictograph = Pictograph.embedded(home)
    expect(pictograph("upload", road_signs, "-d", "signs", "-q"), 0)
    expect(pictograph("datasets", "delete", "signs", "--yes"), 0)
    blobs = [path for path in (home / "blobs").rglob("*") if path.is_file()]
    assert len(blobs) == 6

    kept = expect(pictograph("gc", "--home", home), 0)
    assert "0 datasets and 0 images from the trash" in kept.stderr
    assert len(pictograph.json("trash", "list")) == 1

    swept = expect(pictograph("gc", "--home", home, "--trash-retention-days", "0"), 0)
    assert "1 datasets and 0 images from the trash (6 blobs)" in swept.stderr
    assert "trashed dataset\t" in swept.stdout
    assert pictograph.json("trash", "list") == []
    assert not [path for path in (home / "blobs").rglob("*") if path.is_file()]

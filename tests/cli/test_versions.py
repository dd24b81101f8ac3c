"""``pictograph versions`` and ``pictograph export --version`` on the embedded store and a
server (issue 21, finding 7)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from tests.cli.runner import Pictograph, expect


def test_a_version_is_created_listed_shown_exported_and_deleted(
    pictograph: Pictograph, road_signs: Path, tmp_path: Path
) -> None:
    expect(pictograph("upload", road_signs, "-d", "signs", "-q"), 0)
    made = pictograph.json("versions", "create", "signs", "v1", "-d", "first")
    assert (made["name"], made["image_count"], made["description"]) == ("v1", 6, "first")
    assert expect(pictograph("versions", "create", "signs", "v1"), 5)
    assert [v["name"] for v in pictograph.json("versions", "list", "signs")] == ["v1"]
    shown = expect(pictograph("versions", "show", "signs", "v1"), 0).stdout
    assert '"splits"' in shown and '"none": 6' in shown

    expect(pictograph("datasets", "delete", "signs", "--yes"), 0)
    assert expect(pictograph("versions", "list", "signs"), 4)
    expect(pictograph("upload", road_signs, "-d", "signs", "-q"), 0)
    pictograph.json("versions", "create", "signs", "v2")
    out = tmp_path / "v2.zip"
    done = pictograph.json("export", "signs", "--format", "coco", "--version", "v2", "-o", out)
    assert done["version"] == "v2" and done["image_count"] == 6
    assert "annotations.json" in zipfile.ZipFile(out).namelist()
    expect(pictograph("versions", "delete", "signs", "v2", "--yes"), 0)
    assert pictograph.json("versions", "list", "signs") == []

"""The official command line's ``datasets duplicates`` (``pictograph[cli]==1.69.146``, unmodified)
against ``pictograph serve``: a resized, re-encoded copy is in its original's cluster, a different
picture in none (the harness of ``test_official_cli.py``)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from tests.images import scene
from tests.official.test_official_cli import Cli
from tests.served import serve


def test_the_official_duplicates_command_finds_a_resized_reencoded_copy(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    original = scene(folder / "original.png", seed=1000)
    with Image.open(original) as picture:
        picture.resize((112, 84)).save(folder / "copy.jpg", "JPEG", quality=80)
    for seed in range(3):
        scene(folder / f"other-{seed}.png", seed)
    home = tmp_path / "server"
    with serve(home, f"sqlite:///{home}/pictograph.db") as served:
        cli = Cli(served.base_url, served.create_key("acme"), tmp_path)
        cli.run("datasets", "create", "near")
        assert cli.json("images", "upload-directory", "near", str(folder))["images_uploaded"] == 5

        found = cli.json("datasets", "duplicates", "near", "--json")
        summary = cli.run("datasets", "duplicates", "near", "--threshold", "0.96")

    [group] = found["groups"]
    assert sorted(m["filename"] for m in group["members"]) == ["copy.jpg", "original.png"]
    assert (found["group_count"], found["redundant_count"], found["total_images"]) == (1, 1, 5)
    assert "1 duplicate groups · 1 redundant · 5 of 5 images analyzed (>= 0.96 similarity)" in (
        summary
    )

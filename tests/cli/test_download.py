"""``pictograph download``: a dataset back as a folder tree, resumable, never outside the folder."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pictograph.models import Image
from pictograph.workflows.local_tree import UnsafePathError, local_path
from tests.cli.runner import Pictograph, expect, one_error_line
from tests.images import make_image, sha256_of
from tests.served import serve


def hashes_under(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): sha256_of(path)
        for path in root.rglob("*")
        if path.is_file()
    }


def test_a_dataset_downloads_as_a_tree_equal_to_the_originals_and_a_rerun_skips_all(
    pictograph: Pictograph, road_signs: Path, tmp_path: Path
) -> None:
    expect(pictograph("upload", road_signs, "-d", "signs", "--preserve-structure", "-q"), 0)
    out = tmp_path / "out"
    first = expect(pictograph("download", "signs", out), 0)
    assert "6 downloaded, 0 skipped, 0 failed of 6 images" in first.stdout
    assert first.stderr.strip().splitlines()[-1].startswith("download: 6/6 files (100%)")
    originals = {k: v for k, v in hashes_under(road_signs).items() if k != ".DS_Store"}
    assert hashes_under(out) == originals

    again = pictograph.json("download", "signs", out, "-q")
    assert again["images_skipped"] == 6 and again["images_downloaded"] == 0
    assert again["success"] is True and again["failures"] == []


def test_a_local_file_with_other_bytes_of_the_same_size_is_fetched_again(
    pictograph: Pictograph, road_signs: Path, tmp_path: Path
) -> None:
    expect(pictograph("upload", road_signs, "-d", "signs", "-q"), 0)
    out = tmp_path / "out"
    expect(pictograph("download", "signs", out, "-q"), 0)
    changed = out / "stop" / "001.jpg"
    changed.write_bytes(b"x" * changed.stat().st_size)
    report = pictograph.json("download", "signs", out, "-q")
    assert (report["images_downloaded"], report["images_skipped"]) == (1, 5)
    assert sha256_of(changed) == sha256_of(road_signs / "stop" / "001.jpg")


def test_an_unknown_dataset_exits_4_and_creates_no_folder(
    pictograph: Pictograph, tmp_path: Path
) -> None:
    result = expect(pictograph("download", "nope", tmp_path / "out"), 4)
    one_error_line(result)
    assert not (tmp_path / "out").exists()


def test_upload_then_download_round_trips_on_every_metadata_store(
    database_url: str, road_signs: Path, tmp_path: Path
) -> None:
    originals = {k: v for k, v in hashes_under(road_signs).items() if k != ".DS_Store"}
    with serve(tmp_path / "served", database_url) as served:
        targets = [
            Pictograph.embedded(tmp_path / "home", database_url),
            Pictograph.served(served.base_url, served.create_key("acme")),
        ]
        for target in targets:
            expect(target("upload", road_signs, "-d", "signs", "--preserve-structure", "-q"), 0)
            out = tmp_path / f"out-{target.kind}"
            assert target.json("download", "signs", out, "-q")["images_downloaded"] == 6
            assert hashes_under(out) == originals


def image(directory_path: str, filename: str) -> Image:
    return Image(
        id="0", filename=filename, directory_path=directory_path, created_at=datetime.now(UTC)
    )


@pytest.mark.parametrize(
    ("directory_path", "filename", "expected"),
    [
        ("/", "a.jpg", "a.jpg"),
        ("/stop/night", "a.jpg", "stop/night/a.jpg"),
        ("/../../etc", "passwd", "_/_/etc/passwd"),
        ("/stop", "../../a.jpg", "stop/.._.._a.jpg"),
        ("//x//./", "..", "x/_/_"),
        ("/C:", "a\\b.jpg", "C_/a_b.jpg"),
    ],
)
def test_server_names_never_lead_outside_the_download_folder(
    tmp_path: Path, directory_path: str, filename: str, expected: str
) -> None:
    target = local_path(tmp_path, image(directory_path, filename))
    assert target.relative_to(tmp_path).as_posix() == expected


def test_a_symlink_in_the_download_folder_pointing_elsewhere_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "stop").symlink_to(outside)
    with pytest.raises(UnsafePathError):
        local_path(tmp_path / "out", image("/stop", "a.jpg"))
    make_image(outside / "kept.jpg")
    assert [p.name for p in outside.iterdir()] == ["kept.jpg"]

"""``pictograph verify``: a folder against its dataset by SHA-256 (exit 0 only when they match),
and ``--store``: every stored blob re-hashed against its recorded SHA-256."""

from __future__ import annotations

from pathlib import Path

from tests.cli.runner import Pictograph, expect
from tests.images import make_image


def test_verify_exits_0_when_the_dataset_holds_exactly_the_folder(
    pictograph: Pictograph, road_signs: Path
) -> None:
    expect(pictograph("upload", road_signs, "--dataset", "signs", "-q"), 0)
    result = expect(pictograph("verify", road_signs, "--dataset", "signs"), 0)
    assert "6 matched, 0 missing, 0 different, 0 extra" in result.stderr
    assert result.stdout == ""


def test_verify_lists_missing_different_and_extra_files_and_exits_10(
    pictograph: Pictograph, road_signs: Path
) -> None:
    expect(pictograph("upload", road_signs, "--dataset", "signs", "-q"), 0)
    make_image(road_signs / "stop" / "007.jpg")  # never uploaded
    make_image(road_signs / "stop" / "001.jpg", seed=99)  # changed since
    (road_signs / "yield" / "004.jpg").unlink()  # removed locally: extra in the dataset
    result = expect(pictograph("verify", road_signs, "--dataset", "signs"), 10)
    assert result.stdout.splitlines() == [
        "missing\t/stop/007.jpg",
        "different\t/stop/001.jpg",
        "extra\t/yield/004.jpg",
    ]
    assert "4 matched, 1 missing, 1 different, 1 extra" in result.stderr


def test_verify_store_rehashes_every_blob_and_names_the_changed_and_the_missing(
    tmp_path: Path, road_signs: Path
) -> None:
    home = tmp_path / "home"
    pictograph = Pictograph.embedded(home)
    expect(pictograph("upload", road_signs, "--dataset", "signs", "-q"), 0)
    assert "6 images checked, 0 missing, 0 with other bytes" in (
        expect(pictograph("verify", "--store"), 0).stderr
    )
    blobs = sorted(path for path in (home / "blobs").glob("??/*") if path.is_file())
    blobs[0].write_bytes(b"bit rot")
    blobs[1].unlink()
    result = expect(pictograph("verify", "--store"), 10)
    assert "6 images checked, 1 missing, 1 with other bytes than recorded" in result.stderr
    assert f"({blobs[0].name})" in result.stdout and f"({blobs[1].name})" in result.stdout


def test_verify_store_names_images_whose_recorded_bytes_are_not_a_whole_image(
    tmp_path: Path, road_signs: Path
) -> None:
    """As an older version left them: a truncated JPEG registered from a bucket with the SHA-256
    of its truncated bytes (only its first KiB was checked then)."""
    import hashlib

    import sqlalchemy as sa

    home = tmp_path / "home"
    pictograph = Pictograph.embedded(home)
    expect(pictograph("upload", road_signs, "--dataset", "signs", "-q"), 0)
    engine = sa.create_engine(f"sqlite:///{home / 'pictograph.db'}")
    with engine.begin() as conn:
        key = conn.execute(
            sa.text("SELECT blob_key FROM images WHERE filename = '001.jpg'")
        ).scalar_one()
        [blob] = [path for path in (home / "blobs").glob(f"??/{key}")]
        cut = blob.read_bytes()[: blob.stat().st_size // 2]
        blob.write_bytes(cut)
        conn.execute(
            sa.text("UPDATE images SET sha256 = :s WHERE blob_key = :k"),
            {"s": hashlib.sha256(cut).hexdigest(), "k": key},
        )
    engine.dispose()

    result = expect(pictograph("verify", "--store"), 10)

    assert (
        "6 images checked, 0 missing, 0 with other bytes than recorded, 1 not a whole image"
        in result.stderr
    )
    [line] = result.stdout.splitlines()
    assert line.startswith("damaged\t") and f"/stop/001.jpg ({key})" in line
    assert line.endswith(": image data is truncated or corrupt")

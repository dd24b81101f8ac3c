"""Every resource method through the embedded client: the real server app on a temporary home."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image as PILImage

from pictograph import (
    Client,
    ConflictError,
    DatasetClass,
    NotFoundError,
    ValidationError,
)
from pictograph._upload.channel import UploadChannel

MISSING_ID = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    for variable in ("PICTOGRAPH_API_KEY", "PICTOGRAPH_BASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    with Client(home=tmp_path / "home") as embedded:
        yield embedded


def picture(path: Path, size: tuple[int, int] = (128, 128), orientation: int | None = None) -> Path:
    """A real image file made by Pillow (format from the suffix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = PILImage.new("RGB", size, (40, 90, 200))
    if orientation is None:
        image.save(path)
    else:
        exif = PILImage.Exif()
        exif[0x0112] = orientation
        image.save(path, exif=exif)
    return path


def test_a_client_with_nothing_configured_runs_the_server_in_process(client: Client):
    assert client.mode == "embedded"
    assert client.base_url == "http://embedded.pictograph"
    assert client.datasets.list() == []


def test_datasets_are_created_read_listed_and_paged(client: Client):
    created = client.datasets.create(
        "birds", description="garden birds", classes=[DatasetClass(name="robin")]
    )
    assert created.name == "birds"
    assert created.description == "garden birds"
    assert [c.name for c in created.classes] == ["robin"]
    assert created.classes[0].color
    assert client.datasets.get("birds").id == created.id
    assert client.datasets.get(dataset_id=created.id).name == "birds"
    for index in range(4):
        client.datasets.create(f"extra-{index}")
    assert len(client.datasets.list(limit=2)) == 2
    names = [d.name for d in client.datasets.iter(page_size=2)]
    assert sorted(names) == sorted(["birds", *(f"extra-{i}" for i in range(4))])
    assert len(client.datasets.iter(page_size=2, max_total=3).all()) == 3


def test_a_taken_dataset_name_raises_conflict_and_an_unknown_one_not_found(client: Client):
    client.datasets.create("taken")
    with pytest.raises(ConflictError):
        client.datasets.create("taken")
    with pytest.raises(NotFoundError):
        client.datasets.get("nope")
    with pytest.raises(NotFoundError):
        client.datasets.get(dataset_id=MISSING_ID)


def test_a_dataset_is_updated_renamed_archived_unarchived_and_deleted(client: Client):
    client.datasets.create("old")
    updated = client.datasets.update("old", new_name="new", description="fresh")
    assert (updated.name, updated.description) == ("new", "fresh")
    with pytest.raises(ValueError, match="Nothing to update"):
        client.datasets.update("new")
    assert client.datasets.archive("new").is_archived
    assert [d.name for d in client.datasets.list()] == []
    assert [d.name for d in client.datasets.list(archived=True)] == ["new"]
    assert not client.datasets.unarchive("new").is_archived
    summary = client.datasets.delete("new")
    assert isinstance(summary, dict)
    with pytest.raises(NotFoundError):
        client.datasets.get("new")


def test_eight_threads_read_the_same_dataset_consistently(client: Client):
    created = client.datasets.create("shared")
    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(lambda _: client.datasets.get("shared").id, range(32)))
    assert ids == {created.id}


def test_an_uploaded_image_is_read_listed_and_downloaded_byte_for_byte(
    client: Client, tmp_path: Path
):
    client.datasets.create("photos")
    source = picture(tmp_path / "cat.png")
    image = client.images.upload("photos", source, directory_path="/pets")
    assert (image.filename, image.width, image.height) == ("cat.png", 128, 128)
    assert image.directory_path in ("/pets", "pets")
    assert image.file_size == source.stat().st_size
    assert client.images.get("photos", "cat.png").id == image.id
    assert client.images.get("photos", image.id).filename == "cat.png"
    assert [i.id for i in client.images.list("photos", directory_path="/pets")] == [image.id]
    assert client.images.list("photos", directory_path="/") == []
    assert [i.id for i in client.images.iter("photos", page_size=1)] == [image.id]
    out = client.images.download("photos", image.id, tmp_path / "out" / "cat.png")
    assert out.read_bytes() == source.read_bytes()
    assert client.datasets.get("photos", include_images=True).images == [
        client.images.get("photos", image.id)
    ]


def test_an_image_in_the_root_folder_is_addressed_by_its_bare_filename(
    client: Client, tmp_path: Path
):
    client.datasets.create("root")
    source = picture(tmp_path / "dog.jpg")
    client.images.upload("root", source)
    out = client.images.download("root", "dog.jpg", tmp_path / "dog-copy.jpg")
    assert out.read_bytes() == source.read_bytes()
    client.images.delete("root", "dog.jpg", permanent=True)
    assert client.images.list("root", include_archived=True) == []


def test_exif_rotation_swaps_the_registered_width_and_height(client: Client, tmp_path: Path):
    client.datasets.create("phone")
    image = client.images.upload("phone", picture(tmp_path / "p.jpg", (40, 20), orientation=6))
    assert (image.width, image.height) == (20, 40)


def test_deleting_archives_by_default_and_removes_for_good_with_permanent(
    client: Client, tmp_path: Path
):
    client.datasets.create("trash")
    image = client.images.upload("trash", picture(tmp_path / "a.png"))
    client.images.delete("trash", image.id)
    assert client.images.get("trash", image.id).is_archived
    assert client.images.list("trash") == []
    assert [i.id for i in client.images.list("trash", include_archived=True)] == [image.id]
    client.images.delete("trash", image.id, permanent=True)
    with pytest.raises(NotFoundError):
        client.images.get("trash", image.id)


def test_upload_checks_the_file_before_sending_anything(client: Client, tmp_path: Path):
    client.datasets.create("checks")
    with pytest.raises(FileNotFoundError):
        client.images.upload("checks", tmp_path / "missing.png")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="unsupported image type"):
        client.images.upload("checks", tmp_path / "notes.txt")
    assert client.images.list("checks") == []


def test_uploading_the_same_name_twice_into_a_folder_raises_conflict(
    client: Client, tmp_path: Path
):
    client.datasets.create("dupes")
    source = picture(tmp_path / "same.png")
    client.images.upload("dupes", source, directory_path="/x")
    with pytest.raises(ConflictError):
        client.images.upload("dupes", source, directory_path="/x")


def test_an_unknown_image_or_one_of_another_dataset_is_not_found(client: Client, tmp_path: Path):
    client.datasets.create("one")
    client.datasets.create("two")
    image = client.images.upload("one", picture(tmp_path / "a.png"))
    with pytest.raises(NotFoundError):
        client.images.get("one", MISSING_ID)
    with pytest.raises(NotFoundError):
        client.images.get("two", image.id)
    with pytest.raises(NotFoundError):
        client.images.get("one", "nothing.png")


def test_bulk_upload_registers_every_file_and_reports_names_already_there(
    client: Client, tmp_path: Path
):
    client.datasets.create("bulk")
    files = [picture(tmp_path / f"b{i}.png", (10 + i, 12)) for i in range(5)]
    result = client.images.bulk_upload("bulk", files, directory_path="/batch")
    assert result.count == 5
    assert sorted(i.filename for i in result.succeeded) == [f"b{i}.png" for i in range(5)]
    assert {i.width for i in result.succeeded} == {10, 11, 12, 13, 14}
    again = client.images.bulk_upload("bulk", files[:2], directory_path="/batch")
    assert again.count == 0
    assert sorted(f.filename for f in again.failed) == ["b0.png", "b1.png"]
    assert all("already exists" in f.error for f in again.failed)


def test_the_low_level_batch_calls_report_existing_images_and_register_tuples(
    client: Client, tmp_path: Path
):
    dataset = client.datasets.create("lowlevel")
    first = client.images.upload("lowlevel", picture(tmp_path / "old.png"), directory_path="/d")
    new = picture(tmp_path / "new.png")
    channel = UploadChannel(client._transport)
    slots = channel.plan(
        dataset.id, [("old.png", "/d", "image/png"), ("new.png", "/d", "image/png")]
    ).slots
    assert [(s.filename, s.directory_path) for s in slots] == [("old.png", "/d"), ("new.png", "/d")]
    assert slots[0].existing is not None
    assert slots[0].existing.id == first.id
    assert slots[1].existing is None
    channel.put_file(slots[1].url, new, "image/png")
    result = channel.register_many(dataset.id, [("new.png", "/d", "image/png")])
    assert [(i.filename, i.file_size) for i in result.succeeded] == [
        ("new.png", new.stat().st_size)
    ]


def test_a_refused_file_says_why_through_upload_and_bulk_upload(client: Client, tmp_path: Path):
    """Issue 22: the PUT of a three-step URL takes a refusal as a receipt; register says why."""
    client.datasets.create("refusals")
    fake = tmp_path / "fake.jpg"
    fake.write_bytes(b"this is plain text, not a JPEG")
    with pytest.raises(ValidationError, match="not a valid image"):
        client.images.upload("refusals", fake)
    good = picture(tmp_path / "good.png")
    result = client.images.bulk_upload("refusals", [good, fake], directory_path="/b")
    assert [i.filename for i in result.succeeded] == ["good.png"]
    assert [(f.filename, f.error) for f in result.failed] == [
        ("fake.jpg", "not a valid image: cannot identify image file")
    ]
    assert client.datasets.get("refusals").image_count == 1


def test_folders_are_created_listed_counted_renamed_and_deleted(client: Client, tmp_path: Path):
    client.datasets.create("tree")
    created = client.directories.create("tree", "/a/b")
    assert (created.name, created.full_path) == ("b", "/a/b")
    client.images.upload("tree", picture(tmp_path / "x.png"), directory_path="/a/b")
    client.images.upload("tree", picture(tmp_path / "y.png"), directory_path="/a")
    assert sorted(d.full_path for d in client.directories.list("tree")) == ["/a", "/a/b"]
    assert [d.full_path for d in client.directories.list("tree", parent_path="")] == ["/a"]
    [root] = client.directories.tree("tree")
    assert (root.full_path, root.nested_image_count) == ("/a", 2)
    assert [c.full_path for c in root.children] == ["/a/b"]
    assert client.directories.stats("tree", "/a").total_images == 2
    assert client.directories.stats("tree", "/a", include_subdirectories=False).total_images == 1
    assert client.directories.stats("tree", "/").total_images == 2
    renamed = client.directories.rename("tree", "/a/b", "c")
    assert renamed.full_path == "/a/c"
    assert client.images.get("tree", "x.png").directory_path in ("/a/c", "a/c")
    with pytest.raises(ValidationError):
        client.directories.delete("tree", "/a/c")
    client.directories.delete("tree", "/a/c", cascade=True)
    assert client.images.get("tree", "x.png").directory_path in ("/a", "a")
    with pytest.raises(NotFoundError):
        client.directories.delete("tree", "/a/c")


def test_a_dataset_downloads_to_a_folder_with_a_report(client: Client, tmp_path: Path):
    dataset = client.datasets.create("export")
    sources = [picture(tmp_path / "in" / f"{n}.png") for n in ("one", "two")]
    client.images.bulk_upload("export", sources)
    report = client.datasets.download("export", tmp_path / "out", mode="images_only")
    assert report.dataset_id == dataset.id
    assert (report.images_downloaded, report.failures) == (2, [])
    for source in sources:
        assert (tmp_path / "out" / source.name).read_bytes() == source.read_bytes()
    full = client.datasets.download("export", tmp_path / "full")
    assert full.success
    assert full.annotations_downloaded in (0, 2)


def test_a_save_naming_the_version_it_read_refuses_to_overwrite_a_later_change(
    client: Client, tmp_path: Path
):
    client.datasets.create("signs", classes=[{"name": "stop", "type": "bbox"}])
    client.images.upload("signs", picture(tmp_path / "a.png"))
    box = {"name": "stop", "type": "bbox", "bounding_box": {"x": 1, "y": 2, "w": 3, "h": 4}}
    read = client.annotations.get_with_version("signs", "a.png")
    assert read.annotations == [] and read.version == 0
    first = client.annotations.save("signs", "a.png", [box], version=read.version)
    assert first.version == 1
    with pytest.raises(ConflictError) as refused:
        client.annotations.save("signs", "a.png", [], version=read.version)
    assert refused.value.code == "stale_version"
    assert len(client.annotations.get("signs", "a.png")) == 1
    assert client.annotations.save("signs", "a.png", []).version == 2  # no version: replaces

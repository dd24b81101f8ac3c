"""``client.trash`` through the embedded client, and the official meaning of ``delete`` kept:
a deleted dataset is a 404 and its name can be created again at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pictograph import Client, ConflictError, NotFoundError, TrashItem
from tests.images import make_image


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    for variable in ("PICTOGRAPH_API_KEY", "PICTOGRAPH_BASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    with Client(home=tmp_path / "home") as embedded:
        yield embedded


def test_a_deleted_dataset_is_a_404_its_name_is_free_and_the_trash_brings_it_back(
    client: Client, tmp_path: Path
) -> None:
    first = client.datasets.create("cats")
    source = make_image(tmp_path / "tom.png")
    client.images.upload("cats", source, directory_path="/house")
    summary = client.datasets.delete("cats")
    assert summary["deleted"] is True and summary["images_deleted"] == 1
    with pytest.raises(NotFoundError):
        client.datasets.get("cats")
    second = client.datasets.create("cats")
    assert second.id != first.id

    [item] = client.trash.list()
    assert isinstance(item, TrashItem)
    assert (item.id, item.kind, item.name, item.image_count) == (first.id, "dataset", "cats", 1)
    assert client.trash.iter().all() == [item]
    with pytest.raises(ConflictError):
        client.trash.restore_dataset(first.id)
    restored = client.trash.restore_dataset(first.id, new_name="cats-before")
    assert restored.id == first.id and restored.image_count == 1
    back = client.images.download("cats-before", "house/tom.png", tmp_path / "back.png")
    assert Path(back).read_bytes() == source.read_bytes()
    assert client.trash.list() == []


def test_images_are_restored_and_purged_and_permanent_skips_the_trash(
    client: Client, tmp_path: Path
) -> None:
    client.datasets.create("dogs")
    rex = client.images.upload("dogs", make_image(tmp_path / "rex.png"))
    fido = client.images.upload("dogs", make_image(tmp_path / "fido.png"))
    client.images.delete("dogs", rex.id)
    client.images.delete("dogs", fido.id)
    assert {item.id for item in client.trash.list()} == {rex.id, fido.id}
    assert client.trash.restore_image(rex.id).is_archived is False
    assert client.trash.purge_image(fido.id)["deleted"] is True
    assert client.trash.list() == []
    with pytest.raises(NotFoundError):
        client.images.get("dogs", fido.id)

    summary = client.datasets.delete("dogs", permanent=True)
    assert "trashed" not in summary and summary["images_deleted"] == 1
    assert client.trash.list() == []
    client.datasets.create("gone")
    gone = client.datasets.get("gone")
    client.datasets.delete("gone")
    assert client.trash.purge_dataset(gone.id)["name"] == "gone"
    with pytest.raises(NotFoundError):
        client.trash.restore_dataset(gone.id)

"""A blob store on a full filesystem: an upload is a 507 ``insufficient_storage`` naming the
store, with nothing kept, instead of a 500 and a log full of OSError tracebacks."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from pathlib import Path

import pytest

from pictograph.errors import InsufficientStorageError
from pictograph.server import ServerSettings, create_app
from pictograph.server.service.context import AppContext
from tests.images import make_image
from tests.mounts import fill, tmpfs
from tests.server.conftest import TestClient
from tests.server.flows import create_dataset, upload_url


@pytest.fixture
def full(tmp_path: Path) -> Iterator[Path]:
    """A blob store folder on a 1 MiB filesystem with no space left."""
    with tmpfs(tmp_path / "disk", "1m") as disk:
        (disk / "blobs").mkdir()
        fill(disk)
        yield disk / "blobs"


def _files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def test_an_upload_to_a_full_blob_store_is_a_507_and_keeps_nothing(
    tmp_path: Path, full: Path
) -> None:
    settings = ServerSettings(
        home=tmp_path / "home",
        database_url=f"sqlite:///{tmp_path / 'metadata.db'}",
        storage_url=f"file://{full}",
    )
    with TestClient(create_app(settings)) as client:
        _upload_to_full(client, tmp_path, full)


def _upload_to_full(client: TestClient, tmp_path: Path, full: Path) -> None:
    create_dataset(client, "ds")
    picture = make_image(tmp_path / "big.png", size=(600, 600), seed=3)
    step1 = upload_url(client, "ds", "big.png", "/", "image/png")
    assert step1.status_code == 200, step1.text
    put = client.put(
        step1.json()["data"]["upload_url"],
        content=picture.read_bytes(),
        headers={"content-type": "image/png"},
    )
    assert put.status_code == 507, put.text
    error = put.json()["error"]
    assert error["code"] == "insufficient_storage"
    assert f"file://{full}" in error["message"] and "full" in error["message"]
    assert _files(full) == []


def test_a_group_write_to_a_full_blob_store_raises_and_keeps_nothing(
    full: Path, tmp_path: Path
) -> None:
    settings = ServerSettings.embedded(tmp_path / "home", storage_url=f"file://{full}")
    context = AppContext.open(settings)  # the real store, recording intents in the database
    try:
        with pytest.raises(InsufficientStorageError) as raised:
            context.blobs.write_many([b"x" * 300_000, b"y" * 300_000])
        assert raised.value.status_code == 507
        assert isinstance(raised.value.__cause__, OSError)
        assert raised.value.__cause__.errno == errno.ENOSPC
        with pytest.raises(InsufficientStorageError):
            context.blobs.write_stream([b"z" * 65536] * 8)
    finally:
        context.close()
    assert _files(full) == []

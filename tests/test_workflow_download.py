"""``download_dataset``: a dataset back as a folder tree, resumable, SHA-256 checked, one report."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pictograph import Client, NotFoundError
from pictograph.workflows import (
    DownloadFailure,
    download_dataset,
    plan_download,
    upload_dataset_from_folder,
)
from tests.images import make_image, sha256_of


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    with Client(home=tmp_path / "home") as embedded:
        yield embedded


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): sha256_of(p) for p in root.rglob("*") if p.is_file()}


def test_a_download_writes_the_tree_then_skips_what_is_current_and_refetches_what_is_not(
    client: Client, tmp_path: Path
) -> None:
    source = tmp_path / "signs"
    for name in ("001.jpg", "002.png"):
        make_image(source / "stop" / name)
    make_image(source / "003.jpg")
    assert upload_dataset_from_folder(client, "signs", source).success
    calls: list[tuple[int, int, int, int, bool]] = []

    def progress(done: int, total: int, bytes_done: int, bytes_total: int) -> None:
        on_caller = threading.current_thread() is threading.main_thread()
        calls.append((done, total, bytes_done, bytes_total, on_caller))

    out = tmp_path / "out"
    first = download_dataset(client, "signs", out, max_workers=3, progress=progress)
    assert (first.images_listed, first.images_downloaded, first.images_skipped) == (3, 3, 0)
    assert first.success and tree(out) == tree(source)
    assert [c[0] for c in calls] == [1, 2, 3] and all(c[4] for c in calls)
    assert calls[-1][2] == calls[-1][3] == sum((source / p).stat().st_size for p in tree(source))

    changed = out / "stop" / "001.jpg"
    changed.write_bytes(bytes(len(changed.read_bytes())))  # same size, other bytes
    again = download_dataset(client, "signs", out)
    assert (again.images_downloaded, again.images_skipped, again.failures) == (1, 2, [])
    assert tree(out) == tree(source)


def test_an_unknown_dataset_raises_before_any_folder_is_made(
    client: Client, tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError):
        plan_download(client, "nope", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_folder_that_cannot_be_made_is_a_plain_os_error_naming_it(
    client: Client, tmp_path: Path
) -> None:
    client.datasets.create("empty")
    blocker = tmp_path / "file"
    blocker.write_text("in the way")
    with pytest.raises(OSError, match="cannot create folder") as raised:
        download_dataset(client, "empty", blocker / "out")
    assert type(raised.value) is OSError  # not FileNotFoundError: nothing is missing upstream


def test_a_local_file_in_the_way_fails_alone_with_its_dataset_path(
    client: Client, tmp_path: Path
) -> None:
    make_image(tmp_path / "src" / "a" / "x.jpg")
    make_image(tmp_path / "src" / "y.jpg")
    assert upload_dataset_from_folder(client, "ds", tmp_path / "src").success
    out = tmp_path / "out"
    (out / "a").mkdir(parents=True)
    (out / "a" / "x.jpg").mkdir()  # a folder where the file should go
    report = download_dataset(client, "ds", out)
    assert report.images_downloaded == 1
    [failure] = report.failures
    assert isinstance(failure, DownloadFailure) and failure.path == "/a/x.jpg"
    assert failure.reason.startswith("cannot write file: ")

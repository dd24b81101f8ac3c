"""Scenarios driven by the OFFICIAL Pictograph SDK (PyPI pictograph==1.69.146), unmodified.

It shares our import name, so it runs in its own virtual environment, in a subprocess:
``python scenarios.py SCENARIO WORKDIR`` with PICTOGRAPH_BASE_URL and PICTOGRAPH_API_KEY set.
Each scenario asserts as it goes; the process exits non-zero with the failing line otherwise.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from pictograph import Client
from pictograph.exceptions import AuthError, ConflictError, NotFoundError, ValidationError

SCENARIOS: dict[str, Callable[[Client, Path], None]] = {}


def scenario(fn: Callable[[Client, Path], None]) -> Callable[[Client, Path], None]:
    SCENARIOS[fn.__name__] = fn
    return fn


def picture(path: Path, size: tuple[int, int] = (128, 128), fmt: str = "JPEG") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    seed = int(hashlib.sha256(str(path).encode()).hexdigest()[:6], 16)
    Image.new("RGB", size, (seed % 256, (seed >> 8) % 256, (seed >> 16) % 256)).save(path, fmt)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@scenario
def datasets(client: Client, work: Path) -> None:
    name = unique("ds")
    created = client.datasets.create(name, description="road signs", annotation_types=["bbox"])
    assert created.name == name and created.description == "road signs"
    try:
        client.datasets.create(name)
        raise AssertionError("a duplicate name must be a 409")
    except ConflictError:
        pass
    assert client.datasets.get(name).id == created.id
    assert client.datasets.get(dataset_id=created.id).name == name
    assert name in [d.name for d in client.datasets.list(limit=1000)]
    assert name in [d.name for d in client.datasets.iter(page_size=25, max_total=50)]
    renamed = client.datasets.update(name, new_name=name + "-v2", description="v2")
    assert renamed.name == name + "-v2" and renamed.description == "v2"
    client.images.upload(renamed.name, picture(work / "a.jpg"), directory_path="/cls")
    archived = client.datasets.archive(renamed.name)
    assert archived.is_archived
    assert renamed.name not in [d.name for d in client.datasets.list(limit=1000)]
    assert renamed.name in [d.name for d in client.datasets.list(limit=1000, archived=True)]
    assert not client.datasets.unarchive(renamed.name).is_archived
    for mode in ("full", "images_only", "annotations_only"):
        out = work / f"download-{mode}"
        report = client.datasets.download(renamed.name, out, mode=mode)  # type: ignore[arg-type]
        assert report.success, report.failures
        assert report.dataset_id == created.id
        if mode != "annotations_only":
            assert digest(out / "a.jpg") == digest(work / "a.jpg")
    with_images = client.datasets.get(renamed.name, include_images=True)
    assert with_images.images is not None and [i.filename for i in with_images.images] == ["a.jpg"]
    summary = client.datasets.delete(renamed.name)
    assert isinstance(summary, dict)
    try:
        client.datasets.get(renamed.name)
        raise AssertionError("a deleted dataset must be a 404")
    except NotFoundError:
        pass


@scenario
def images(client: Client, work: Path) -> None:
    name = unique("img")
    dataset = client.datasets.create(name)
    source = picture(work / "cat.png", (1024, 1024), "PNG")
    image = client.images.upload(name, source, directory_path="/pets")
    assert (image.width, image.height) == (1024, 1024) and image.directory_path == "/pets"
    try:
        client.images.upload(name, source, directory_path="/pets")
        raise AssertionError("a duplicate upload must be a 409")
    except ConflictError:
        pass
    assert client.images.get(name, "cat.png").id == image.id
    assert client.images.get(name, image.id).filename == "cat.png"
    assert [i.id for i in client.images.list(name, directory_path="/pets")] == [image.id]
    target = client.images.download(name, image.id, work / "back.png")
    assert digest(Path(target)) == digest(source)
    client.images.delete(name, image.id)
    soft = client.images.get(dataset.id, image.id)
    assert soft.is_archived
    assert client.images.list(name) == []
    assert len(client.images.list(name, include_archived=True)) == 1
    client.images.delete(name, image.id, permanent=True)
    try:
        client.images.get(dataset.id, image.id)
        raise AssertionError("a permanently deleted image must be a 404")
    except NotFoundError:
        pass
    files = [picture(work / "bulk" / f"{n}.jpg") for n in range(5)]
    result = client.images.bulk_upload(name, files, directory_path="/bulk")
    assert result.count == 5 and result.failed == []
    again = client.images.bulk_upload(name, files[:2], directory_path="/bulk")
    assert again.count == 0 and len(again.failed) == 2
    client.datasets.delete(name)


@scenario
def upload_from_directory(client: Client, work: Path) -> None:
    name = unique("folder")
    root = work / "road_signs"
    for cls, count in (("stop", 3), ("yield", 2)):
        for n in range(count):
            picture(root / cls / f"{cls}{n}.jpg")
    picture(root / "stop" / "night" / "dark.jpg")
    picture(root / "root.jpg")
    first = client.images.upload_from_directory(name, root)
    assert first.images_uploaded == 7 and not first.failures, first
    second = client.images.upload_from_directory(name, root)
    assert second.images_uploaded == 0 and second.images_skipped == 7, second
    assert not second.failures
    client.datasets.delete(name)


@scenario
def directories(client: Client, work: Path) -> None:
    name = unique("dirs")
    client.datasets.create(name)
    created = client.directories.create(name, "/train/cars")
    assert created.full_path == "/train/cars"
    assert client.directories.create(name, "/train/cars").id == created.id
    client.images.upload(name, picture(work / "x.jpg"), directory_path="/train/cars")
    paths = sorted(d.full_path for d in client.directories.list(name))
    assert paths == ["/train", "/train/cars"], paths
    assert [d.full_path for d in client.directories.list(name, parent_path="")] == ["/train"]
    tree = client.directories.tree(name)
    assert tree[0].full_path == "/train" and tree[0].children[0].nested_image_count == 1
    renamed = client.directories.rename(name, "/train/cars", "vehicles")
    assert renamed.full_path == "/train/vehicles"
    assert client.images.get(name, "x.jpg").directory_path == "/train/vehicles"
    stats = client.directories.stats(name, "/train")
    assert (stats.total_images, stats.total_directories) == (1, 2), stats
    assert client.directories.stats(name, "/").total_images == 1
    client.directories.delete(name, "/train/vehicles", cascade=True)
    assert client.images.get(name, "x.jpg").directory_path == "/train"
    client.datasets.delete(name)


@scenario
def bad_keys(client: Client, work: Path) -> None:
    base = os.environ["PICTOGRAPH_BASE_URL"]
    for key in (
        "pk_live_" + "0" * 64,
        "not-a-real-prefix-key",
        "pk_live_invalid_key_definitely_wrong",
    ):
        try:
            Client(api_key=key, base_url=base).datasets.list()
            raise AssertionError(f"{key} must be refused")
        except AuthError:
            pass


@scenario
def isolation(client: Client, work: Path) -> None:
    """The dataset named in ISOLATED_DATASET belongs to another organisation."""
    other = os.environ["ISOLATED_DATASET"]
    for attempt in (
        lambda: client.datasets.get(other),
        lambda: client.images.list(other),
        lambda: client.directories.list(other),
        lambda: client.datasets.delete(other),
    ):
        try:
            attempt()
            raise AssertionError("another organisation's dataset must be a 404")
        except NotFoundError:
            pass
    assert other not in [d.name for d in client.datasets.list(limit=1000)]


def truncated_jpeg(path: Path) -> Path:
    """A photo-sized JPEG (random pixels, well over 1 KiB) cut to two thirds of its bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    noise = random.Random(path.name).randbytes(200 * 150 * 3)
    Image.frombytes("RGB", (200, 150), noise).save(path, "JPEG")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    return path


@scenario
def truncated(client: Client, work: Path) -> None:
    """A truncated JPEG is refused by every way the official SDK uploads, and never listed."""
    name = unique("cut")
    client.datasets.create(name)
    cut = truncated_jpeg(work / "folder" / "cut.jpg")
    assert cut.stat().st_size > 4096
    refused = None
    try:
        client.images.upload(name, cut)
    except ValidationError as error:
        refused = str(error)
    assert refused is not None and "truncated" in refused, "a truncated JPEG must be refused"
    result = client.images.bulk_upload(name, [cut], directory_path="/bulk")
    assert result.count == 0 and len(result.failed) == 1, result
    report = client.images.upload_from_directory(name, work / "folder")
    assert report.images_uploaded == 0 and len(report.failures) == 1, report
    assert client.images.list(name, include_archived=True) == []
    client.datasets.delete(name)


@scenario
def refused_files(client: Client, work: Path) -> None:
    """A folder with one good PNG, text named .jpg and a truncated JPEG: the good one uploads,
    each bad one is a failure of the report; then the text file alone (``upload``) and beside
    another good one (``bulk_upload``). Prints each refusal's reason as JSON (the test checks
    them: the server's reason, not only the PUT's status) and the dataset's id."""
    name = unique("refused")
    folder = work / "mixed"
    picture(folder / "good.png", fmt="PNG")
    fake = folder / "fake.jpg"
    fake.write_bytes(b"this is plain text, not a JPEG at all")
    truncated_jpeg(folder / "cut.jpg")
    report = client.images.upload_from_directory(name, folder, organize_by_class=False)
    assert report.images_uploaded == 1 and len(report.failures) == 2, report
    print("reasons:", json.dumps({f.path.name: f.reason for f in report.failures}))
    try:
        client.images.upload(name, fake, directory_path="/one")
        raise AssertionError("text named .jpg must be refused")
    except ValidationError as error:
        print("upload:", json.dumps(str(error)))
    other = picture(work / "bulk" / "other.png", fmt="PNG")
    result = client.images.bulk_upload(name, [other, fake], directory_path="/bulk")
    assert result.count == 1 and [f.filename for f in result.failed] == ["fake.jpg"], result
    print("bulk:", json.dumps(result.failed[0].error))
    listed = client.images.list(name, include_archived=True)
    assert sorted(i.filename for i in listed) == ["good.png", "other.png"], listed
    print("dataset:", client.datasets.get(name).id)


def main() -> None:
    name, work = sys.argv[1], Path(sys.argv[2])
    work.mkdir(parents=True, exist_ok=True)
    with Client() as client:
        SCENARIOS[name](client, work)
    print(f"scenario {name}: ok")


if __name__ == "__main__":
    main()

"""s3:// storage against a real S3-compatible server (SeaweedFS): the blob store on its own, and
two `pictograph serve` replicas sharing PostgreSQL and one bucket."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pictograph import Client, ConfigurationError, NotFoundError
from pictograph.server.store.blob_registry import open_blob_store
from pictograph.workflows import upload_dataset_from_folder
from tests.images import make_image, sha256_of
from tests.s3_server import S3Server, s3_server
from tests.served import create_key, free_port, launch


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with s3_server(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@pytest.fixture
def s3_env(s3: S3Server) -> Iterator[str]:
    """boto3's environment pointed at the test server; a fresh prefix's storage URL."""
    saved = {name: os.environ.get(name) for name in s3.env}
    os.environ.update(s3.env)
    yield f"s3://{s3.bucket}/t-{uuid.uuid4().hex[:8]}"
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _objects(s3: S3Server, prefix: str) -> list[str]:
    client: Any = s3.client()
    answer = client.list_objects_v2(Bucket=s3.bucket, Prefix=prefix)
    return [item["Key"] for item in answer.get("Contents", [])]


def test_blobs_live_only_in_the_bucket_and_any_replica_reads_them(
    s3: S3Server, s3_env: str, tmp_path: Path
) -> None:
    prefix = s3_env.split("/", 3)[3] + "/"
    here = open_blob_store(s3_env)
    there = open_blob_store(s3_env)

    blob = here.write_stream([b"first ", b"bytes"])
    aborted = here.writer()
    aborted.write(b"never committed")
    aborted.abort()

    assert _objects(s3, prefix) == [prefix + blob.key]
    with there.open(blob.key) as read_back:
        assert read_back.read() == b"first bytes"
    here.delete(blob.key)
    assert _objects(s3, prefix) == []
    with pytest.raises(NotFoundError):
        there.open(blob.key)


def test_a_bucket_that_cannot_be_reached_is_a_configuration_error(
    s3_env: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError, match="cannot reach S3 bucket"):
        open_blob_store("s3://no-such-bucket-here/x")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_replicas_on_postgresql_and_one_bucket_serve_each_others_images(
    database_url: str, s3: S3Server, s3_env: str, tmp_path: Path
) -> None:
    folder = tmp_path / "signs"
    paths = [make_image(folder / ("stop" if n % 2 else "yield") / f"{n}.jpg") for n in range(6)]
    (folder / "stop" / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    key = create_key(("--home", str(tmp_path / "keys"), "--database-url", database_url), "acme")
    replicas = [_replica(database_url, s3_env, s3.env, tmp_path / f"home-{n}") for n in (1, 2)]
    with replicas[0] as first, replicas[1] as second:
        with Client(api_key=key, base_url=first.base_url) as one:
            report = upload_dataset_from_folder(one, "signs", folder)
        with Client(api_key=key, base_url=second.base_url) as two:
            again = upload_dataset_from_folder(two, "signs", folder)
            copies = {
                path.name: two.images.download(
                    "signs", two.images.get("signs", path.name).id, tmp_path / f"back-{path.name}"
                )
                for path in paths
            }

    assert (report.images_uploaded, [f.path.name for f in report.failures]) == (6, ["broken.jpg"])
    assert (again.images_uploaded, again.images_skipped) == (0, 6)
    assert {name: sha256_of(Path(copy)) for name, copy in copies.items()} == {
        path.name: sha256_of(path) for path in paths
    }
    assert len(_objects(s3, s3_env.split("/", 3)[3] + "/")) == 6  # nothing kept of the bad file


def _replica(database_url: str, storage_url: str, env: dict[str, str], home: Path) -> Any:
    port = free_port()
    command = [
        "serve",
        "--port",
        str(port),
        "--home",
        str(home),
        "--database-url",
        database_url,
        "--storage-url",
        storage_url,
    ]
    return launch(command, f"http://127.0.0.1:{port}", (), env=env)


def test_an_unknown_storage_scheme_is_a_configuration_error() -> None:
    with pytest.raises(
        ConfigurationError,
        match="unsupported storage URL 'gs://bucket/x': use one of file://, s3://",
    ):
        open_blob_store("gs://bucket/x")

"""s3:// storage against a real S3-compatible server (SeaweedFS): the blob store on its own, and
two `pictograph serve` replicas sharing PostgreSQL and one bucket."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from PIL import Image

from deploy.seaweed import S3Server
from pictograph import Client, ConfigurationError, NotFoundError
from pictograph.server.store.blob_registry import open_blob_store
from pictograph.server.store.blobs import no_reservations
from pictograph.workflows import upload_dataset_from_folder
from tests.images import make_image, sha256_of
from tests.official.test_official_sdk import OFFICIAL_PYTHON, OUR_PYTHON, run_official
from tests.served import PICTOGRAPH, create_key, free_port, launch

P = "/api/v1/developer"


def _objects(s3: S3Server, prefix: str) -> list[str]:
    client = s3.client()
    answer = client.list_objects_v2(Bucket=s3.bucket, Prefix=prefix)
    return [item["Key"] for item in answer.get("Contents", [])]


def test_blobs_live_only_in_the_bucket_and_any_replica_reads_them(
    s3: S3Server, s3_env: str, tmp_path: Path
) -> None:
    prefix = s3_env.split("/", 3)[3] + "/"
    here = open_blob_store(s3_env, no_reservations)
    there = open_blob_store(s3_env, no_reservations)

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


@pytest.mark.parametrize("size", [100, 9 * 1024 * 1024], ids=["in-memory", "spilled"])
def test_a_writer_shows_its_staged_bytes_before_commit_and_commits_them_whole(
    s3: S3Server, s3_env: str, size: int
) -> None:
    prefix = s3_env.split("/", 3)[3] + "/"
    store = open_blob_store(s3_env, no_reservations)
    data = random.Random(size).randbytes(size)
    writer = store.writer()
    writer.write(data[: size // 2])
    writer.write(data[size // 2 :])

    with writer.staged() as staged:  # read (and closed) before anything is in the bucket
        assert staged.read(10) == data[:10]
        staged.seek(0)
        assert staged.read() == data
    assert _objects(s3, prefix) == []
    blob = writer.commit()

    with store.open(blob.key) as stored:
        assert stored.read() == data
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    store.delete(blob.key)


def test_a_bucket_that_cannot_be_reached_is_a_configuration_error(
    s3_env: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError, match="cannot reach S3 bucket"):
        open_blob_store("s3://no-such-bucket-here/x", no_reservations)


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
        open_blob_store("gs://bucket/x", no_reservations)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_with_s3_storage_upload_urls_go_straight_to_the_bucket_and_register_checks_the_object(
    database_url: str, s3: S3Server, s3_env: str, tmp_path: Path
) -> None:
    prefix = s3_env.split("/", 3)[3] + "/"
    good = make_image(tmp_path / "good.png")
    key = create_key(("--home", str(tmp_path / "keys"), "--database-url", database_url), "acme")
    with _replica(database_url, s3_env, s3.env, tmp_path / "home") as replica:
        api = httpx.Client(base_url=f"{replica.base_url}{P}", headers={"X-API-Key": key})
        api.post("/datasets", json={"name": "d"}).raise_for_status()

        def url_for(name: str) -> str:
            body = {"dataset": "d", "filename": name, "content_type": "image/png"}
            answer = api.post("/images/upload-url", json=body)
            answer.raise_for_status()
            return str(answer.json()["data"]["upload_url"])

        def register(name: str) -> httpx.Response:
            return api.post("/images/register", json={"dataset": "d", "filename": name})

        url = url_for("good.png")
        put = httpx.put(url, content=good.read_bytes(), headers={"Content-Type": "image/png"})
        registered = register("good.png")
        never_put = register("missing.png") if url_for("missing.png") else None
        wrong = url_for("wrong.png")
        jpeg = make_image(tmp_path / "wrong.jpg").read_bytes()
        httpx.put(wrong, content=jpeg, headers={"Content-Type": "image/png"}).raise_for_status()
        refused = register("wrong.png")
        listed = api.get("/images/", params={"dataset": "d"}).json()["data"]

    assert url.startswith(s3.endpoint) and put.status_code == 200
    assert registered.status_code == 201, registered.text
    image = registered.json()["data"]
    assert (image["sha256"], image["file_size"]) == (sha256_of(good), good.stat().st_size)
    assert (image["width"], image["height"]) == (32, 24)
    assert never_put is not None and never_put.status_code == 422
    assert never_put.json()["error"]["message"] == (
        "no bytes were uploaded: PUT the file to its upload_url first"
    )
    assert refused.status_code == 422
    assert "file contains JPEG data but was declared image/png" in refused.text
    assert [item["filename"] for item in listed] == ["good.png"]
    objects = _objects(s3, prefix)
    assert len(objects) == 1  # the refused object was deleted with its pending upload
    body = s3.client().get_object(Bucket=s3.bucket, Key=objects[0])["Body"].read()
    assert hashlib.sha256(body).hexdigest() == sha256_of(good)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("scenario", ["images", "upload_from_directory"])
@pytest.mark.parametrize("python", ["official", "ours"])
def test_both_sdks_upload_straight_to_the_bucket_unmodified(
    database_url: str, s3: S3Server, s3_env: str, tmp_path: Path, scenario: str, python: str
) -> None:
    key = create_key(("--home", str(tmp_path / "keys"), "--database-url", database_url), "acme")
    interpreter = OFFICIAL_PYTHON if python == "official" else OUR_PYTHON
    with _replica(database_url, s3_env, s3.env, tmp_path / "home") as replica:
        result = run_official(replica, scenario, tmp_path, key, interpreter)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"scenario {scenario}: ok" in result.stdout
    assert not (tmp_path / "home" / "blobs").exists()  # no byte was kept on the replica


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_downloads_and_thumbnails_come_straight_from_the_bucket_and_replicas_keep_nothing(
    database_url: str, s3: S3Server, s3_env: str, tmp_path: Path
) -> None:
    folder = tmp_path / "birds"
    paths = [make_image(folder / f"{n}.jpg", size=(300, 200), seed=n) for n in range(4)]
    key = create_key(("--home", str(tmp_path / "keys"), "--database-url", database_url), "acme")
    with (
        _replica(database_url, s3_env, s3.env, tmp_path / "first") as first,
        Client(api_key=key, base_url=first.base_url) as client,
    ):
        assert upload_dataset_from_folder(client, "birds", folder).images_uploaded == 4
    assert not (tmp_path / "first").exists()  # the replica kept nothing on its own disk
    with _replica(database_url, s3_env, s3.env, tmp_path / "second") as second:
        with Client(api_key=key, base_url=second.base_url) as client:
            listing = client.datasets.download("birds", tmp_path / "back", mode="images_only")
            image_id = client.images.get("birds", "0.jpg").id
        raw = httpx.get(
            f"{second.base_url}{P}/datasets/birds/download", headers={"X-API-Key": key}
        ).json()["data"]["items"]
        browser = httpx.Client(base_url=second.base_url, headers={"Origin": second.base_url})
        assert browser.post("/login", data={"api_key": key}).status_code == 303  # signed in
        original = browser.get(f"/images/{image_id}/file")
        thumbnail = browser.get(f"/images/{image_id}/thumbnail")
        fetched_original = httpx.get(original.headers["location"])
        fetched_thumbnail = httpx.get(thumbnail.headers["location"])
        again = browser.get(f"/images/{image_id}/thumbnail")

    assert not listing.failures
    assert {p.name: sha256_of(tmp_path / "back" / p.name) for p in paths} == {
        p.name: sha256_of(p) for p in paths
    }
    assert all(item["image_url"].startswith(s3.endpoint) for item in raw)
    assert original.status_code == 307 and original.headers["location"].startswith(s3.endpoint)
    assert hashlib.sha256(fetched_original.content).hexdigest() == sha256_of(folder / "0.jpg")
    assert thumbnail.status_code == 307 and fetched_thumbnail.status_code == 200
    assert fetched_thumbnail.content[:2] == b"\xff\xd8"  # a JPEG, made once, kept in the bucket
    assert again.status_code == 307
    prefix = s3_env.split("/", 3)[3] + "/"
    assert any(name.startswith(f"{prefix}derived/thumbnails/") for name in _objects(s3, prefix))
    assert not (tmp_path / "second" / "thumbnails").exists()


def test_the_s3_store_lists_its_blobs_with_their_times_for_gc_and_leaves_derived_objects_out(
    s3: S3Server, s3_env: str
) -> None:
    store: Any = open_blob_store(s3_env, no_reservations)
    kept = store.write_stream([b"kept"])
    orphan = store.new_keys(1)[0]  # a client that PUT and died before register
    httpx.put(
        store.upload_url(orphan, content_type="image/png", sha256=None, expires_in=60),
        content=b"never registered",
        headers={"Content-Type": "image/png"},
    ).raise_for_status()
    store.put_derived("thumbnails/ab/x-256.jpg", b"\xff\xd8", "image/jpeg")

    held = {blob.key: blob for blob in store.iter_blobs()}
    store.remove(held[orphan])

    assert set(held) == {kept.key, orphan}
    assert all(blob.modified.tzinfo is not None and not blob.temporary for blob in held.values())
    assert {blob.key for blob in store.iter_blobs()} == {kept.key}


def _noise(path: Path, size: tuple[int, int]) -> Path:
    """A photo-sized image (random pixels do not compress): larger than register's first read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    noise = random.Random(path.name).randbytes(size[0] * size[1] * 3)
    Image.frombytes("RGB", size, noise).save(path)
    return path


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_large_objects_are_checked_by_their_header_and_checksum_or_read_once_without_one(
    database_url: str, s3: S3Server, s3_env: str, tmp_path: Path
) -> None:
    folder = tmp_path / "big"
    ours = [_noise(folder / "a.jpg", (400, 300)), _noise(folder / "b.png", (120, 90))]
    theirs = _noise(tmp_path / "c.png", (90, 120))
    key = create_key(("--home", str(tmp_path / "keys"), "--database-url", database_url), "acme")
    with (
        _replica(database_url, s3_env, s3.env, tmp_path / "home") as replica,
        Client(api_key=key, base_url=replica.base_url) as client,
    ):
        report = upload_dataset_from_folder(client, "big", folder)
        api = httpx.Client(base_url=f"{replica.base_url}{P}", headers={"X-API-Key": key})
        body = {"dataset": "big", "filename": "c.png", "content_type": "image/png"}
        url = api.post("/images/upload-url", json=body).json()["data"]["upload_url"]
        httpx.put(url, content=theirs.read_bytes(), headers={"Content-Type": "image/png"})
        registered = api.post("/images/register", json={"dataset": "big", "filename": "c.png"})
        unchecked_at_first = _unchecked(database_url)
        left = _wait_until_checked(database_url)
        images = {image.filename: image for image in client.images.list("big")}

    assert report.images_uploaded == 2 and not report.failures
    assert registered.status_code == 201, registered.text
    # ours were registered on the bucket's checksum, read whole afterwards; theirs (no checksum
    # bound) was read whole by register
    assert unchecked_at_first <= 2 and left == 0
    assert all(path.stat().st_size > 4096 for path in [*ours, theirs])
    assert {name: (i.width, i.height, i.sha256) for name, i in images.items()} == {
        "a.jpg": (400, 300, sha256_of(ours[0])),
        "b.png": (120, 90, sha256_of(ours[1])),
        "c.png": (90, 120, sha256_of(theirs)),
    }


def _truncated(path: Path) -> Path:
    """A photo-sized JPEG cut to two thirds of its bytes: well over the first KiB register once
    read, with a whole header, and no end of image."""
    _noise(path, (300, 200))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    return path


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_truncated_jpeg_is_a_failure_and_nothing_of_it_is_stored_whichever_client_sends_it(
    database_url: str, s3: S3Server, s3_env: str, tmp_path: Path
) -> None:
    folder = tmp_path / "photos"
    good = _noise(folder / "good.jpg", (300, 200))
    cut = _truncated(folder / "cut.jpg")
    fake = folder / "cat" / "fake.png"  # refused before sending: its reason names no path twice
    fake.parent.mkdir()
    fake.write_text("not a picture\n")
    home = tmp_path / "home"
    key = create_key(("--home", str(tmp_path / "keys"), "--database-url", database_url), "acme")
    with (
        _replica(database_url, s3_env, s3.env, home) as replica,
        Client(api_key=key, base_url=replica.base_url) as client,
    ):
        report = upload_dataset_from_folder(client, "photos", folder)
        # A client that skips the check and binds the cut bytes' SHA-256 into its URL, as our
        # SDK's wire flow does: the bucket takes them and register trusts its checksum, then
        # the replica's background check reads them whole and quarantines them.
        api = httpx.Client(base_url=f"{replica.base_url}{P}", headers={"X-API-Key": key})
        entry = {
            "filename": "bound.jpg",
            "directory_path": "/",
            "content_type": "image/jpeg",
            "sha256": sha256_of(cut),
        }
        body = {"dataset": "photos", "images": [entry], "register_on_upload": True}
        slot = api.post("/images/bulk-upload-url", json=body).json()["data"]["upload_urls"][0]
        put = httpx.put(
            slot["upload_url"], content=cut.read_bytes(), headers=slot["upload_headers"]
        )
        registered = api.post(
            "/images/bulk-register",
            json={"dataset": "photos", "images": [{"filename": "bound.jpg"}]},
        ).json()["data"]
        # An export made at once checks the dataset's unchecked images before reading any; so
        # does a new version before it freezes any.
        frozen = client.versions.create("photos", "at-once")
        client.exports.create("photos", "at-once", include_images=True, poll_interval=0.2)
        archive = client.exports.download("photos", "at-once", tmp_path / "at-once.zip")
        official = run_official(replica, "truncated", tmp_path / "official", key, OFFICIAL_PYTHON)
        listed = _listed_once_checked(client, "photos", "bound.jpg")
        # The uploader hears of it on the next run of a folder holding that file.
        again = tmp_path / "again"
        again.mkdir()
        (again / "bound.jpg").write_bytes(cut.read_bytes())
        rerun = upload_dataset_from_folder(client, "photos", again)
    verified = subprocess.run(
        [
            PICTOGRAPH,
            "verify",
            "--store",
            "--home",
            str(home),
            "--database-url",
            database_url,
            "--storage-url",
            s3_env,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | s3.env,
    )

    assert report.images_uploaded == 1
    assert sorted((f.path, f.reason) for f in report.failures) == [
        (
            fake,
            "not a valid image: cannot identify image file; checked before sending, nothing "
            "was sent",
        ),
        (cut, "image data is truncated or corrupt; checked before sending, nothing was sent"),
    ]
    assert put.status_code == 200  # the bucket takes any bytes that match the checksum
    assert [image["filename"] for image in registered["succeeded"]] == ["bound.jpg"]
    assert registered["failed"] == []
    assert official.returncode == 0, official.stdout + official.stderr
    assert "scenario truncated: ok" in official.stdout
    assert listed == ["good.jpg"]
    assert frozen.image_count == 1
    with zipfile.ZipFile(archive) as exported:
        assert [n for n in exported.namelist() if n.endswith(".jpg")] == ["images/good.jpg"]
    assert [(f.path.name, f.reason) for f in rerun.quarantined] == [
        ("bound.jpg", "image data is truncated or corrupt")
    ]
    assert [f.path.name for f in rerun.failures] == ["bound.jpg"]  # refused before sending
    objects = _objects(s3, s3_env.split("/", 3)[3] + "/")
    stored = {
        hashlib.sha256(
            s3.client().get_object(Bucket=s3.bucket, Key=name)["Body"].read()
        ).hexdigest()
        for name in objects
    }
    # good.jpg's, the quarantined bytes kept for an operator, and the export's archive; nothing
    # of the other cut copies
    assert stored == {sha256_of(good), sha256_of(cut), sha256_of(Path(archive))}
    assert len(objects) == 3
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "1 images checked, 0 missing, 0 with other bytes" in verified.stderr
    assert "1 uploads quarantined" in verified.stderr
    [line] = [row for row in verified.stdout.splitlines() if row.startswith("quarantined\t")]
    assert " /bound.jpg (" in line
    assert line.endswith("): image data is truncated or corrupt")


def _unchecked(database_url: str) -> int:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(sa.text("SELECT count(*) FROM images WHERE unchecked")).scalar_one()
            )
    finally:
        engine.dispose()


def _wait_until_checked(database_url: str) -> int:
    """How many images are still unchecked once none is, or after 30 s."""
    deadline = time.monotonic() + 30
    while (left := _unchecked(database_url)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def _listed_once_checked(client: Client, dataset: str, name: str) -> list[str]:
    """The dataset's file names once the background check took ``name`` out (30 s at most)."""
    deadline = time.monotonic() + 30
    while True:
        listed = sorted(image.filename for image in client.images.list(dataset))
        if name not in listed or time.monotonic() > deadline:
            return listed
        time.sleep(0.2)

"""The sweep a replica runs on a schedule, with s3:// storage on PostgreSQL: it deletes objects a
client PUT and never registered once their grace is over, never a registered image's object, and
runs in one replica at a time (the others skip their round while one holds the sweep lock)."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from deploy.seaweed import S3Server
from pictograph.server.service import gc
from pictograph.server.service.context import AppContext
from pictograph.server.settings import ServerSettings
from tests.images import make_image, sha256_of
from tests.served import Served, create_key, free_port, launch

P = "/api/v1/developer"
HOLD_LOCK = "SELECT pg_advisory_lock(:lock, hashtext(current_schema()))"
FREE_LOCK = "SELECT pg_advisory_unlock(:lock, hashtext(current_schema()))"


@contextmanager
def sweeping_replica(
    database_url: str, storage_url: str, s3: S3Server, home: Path, *flags: str
) -> Iterator[Served]:
    port = free_port()
    command = ["serve", "--port", str(port), "--home", str(home), "--database-url", database_url]
    command += ["--storage-url", storage_url, "--gc-interval", "0.5", *flags]
    with launch(command, f"http://127.0.0.1:{port}", (), env=s3.env) as served:
        yield served


def objects(s3: S3Server, storage_url: str) -> set[str]:
    prefix = storage_url.split("/", 3)[3] + "/"
    answer = s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=prefix)
    return {str(item["Key"]) for item in answer.get("Contents", [])}


def put_orphan(s3: S3Server, storage_url: str) -> str:
    """An object under a blob key no row names: a client PUT to a URL whose pending upload was
    replaced, say."""
    name = f"{storage_url.split('/', 3)[3]}/{secrets.token_hex(16)}"
    s3.client().put_object(Bucket=s3.bucket, Key=name, Body=b"never registered")
    return name


def blob_key_of(database_url: str, filename: str) -> str:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            query = sa.text("SELECT blob_key FROM images WHERE filename = :name")
            return str(conn.execute(query, {"name": filename}).scalar_one())
    finally:
        engine.dispose()


def wait_until(condition: Callable[[], bool], seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def output_of(served: Served) -> str:
    """What a stopped server wrote (standard output and error together)."""
    return served.output()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_replica_sweeps_s3_orphans_past_their_grace_and_never_a_registered_images_object(
    database_url: str, s3: S3Server, s3_env: str, tmp_path: Path
) -> None:
    kept = make_image(tmp_path / "kept.png")
    dropped = make_image(tmp_path / "dropped.png", seed=2)
    key = create_key(("--home", str(tmp_path / "keys"), "--database-url", database_url), "acme")
    flags = ("--gc-grace", "1", "--signed-url-ttl", "3")
    with sweeping_replica(database_url, s3_env, s3, tmp_path / "home", *flags) as replica:
        api = httpx.Client(base_url=f"{replica.base_url}{P}", headers={"X-API-Key": key})
        api.post("/datasets", json={"name": "d"}).raise_for_status()
        for path in (kept, dropped):
            body = {"dataset": "d", "filename": path.name, "content_type": "image/png"}
            url = api.post("/images/upload-url", json=body).json()["data"]["upload_url"]
            put = httpx.put(url, content=path.read_bytes(), headers={"Content-Type": "image/png"})
            put.raise_for_status()
        # The client uploading dropped.png died before registering it.
        registered = api.post("/images/register", json={"dataset": "d", "filename": "kept.png"})
        assert registered.status_code == 201, registered.text
        kept_object = f"{s3_env.split('/', 3)[3]}/{blob_key_of(database_url, 'kept.png')}"
        orphan = put_orphan(s3, s3_env)
        assert len(objects(s3, s3_env)) == 3

        # The orphan goes after its 1 s of grace, dropped.png's object once its pending
        # upload's 3 s URL lifetime is over; a sweep runs every 0.5 s.
        assert wait_until(lambda: objects(s3, s3_env) == {kept_object})
        time.sleep(1.5)  # more sweeps, with the registered object well past its grace
        listed = api.get("/images/", params={"dataset": "d"}).json()["data"]
    assert objects(s3, s3_env) == {kept_object}
    assert orphan not in objects(s3, s3_env)
    body = s3.client().get_object(Bucket=s3.bucket, Key=kept_object)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == sha256_of(kept)
    assert [item["filename"] for item in listed] == ["kept.png"]
    assert "gc removed" in output_of(replica)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_sweep_skips_its_round_while_another_replica_holds_the_sweep_lock(
    database_url: str, s3: S3Server, s3_env: str, tmp_path: Path
) -> None:
    settings = ServerSettings(tmp_path / "admin", database_url, s3_env)
    store = AppContext.open(settings)
    other_replica = sa.create_engine(database_url)
    try:
        with other_replica.connect() as holder:
            holder.execute(sa.text(HOLD_LOCK), {"lock": gc.SWEEP_LOCK})
            orphan = put_orphan(s3, s3_env)
            skipped = gc.scheduled_sweep(store, grace=timedelta(0))
            with sweeping_replica(
                database_url, s3_env, s3, tmp_path / "home", "--gc-grace", "0"
            ) as replica:
                time.sleep(2)  # four rounds of the running replica's sweep
                kept_while_locked = orphan in objects(s3, s3_env)
                holder.execute(sa.text(FREE_LOCK), {"lock": gc.SWEEP_LOCK})
                swept = wait_until(lambda: orphan not in objects(s3, s3_env))
    finally:
        store.close()
        other_replica.dispose()
    assert skipped.skipped and skipped.total == 0
    assert kept_while_locked
    assert swept
    log = output_of(replica)
    assert "gc skipped this round: another replica is sweeping" in log
    assert "gc removed 0 temporary files, 1 orphan blobs" in log

"""``pictograph gc`` (and the sweep a server runs at start) removes crash litter: temporary
files, blobs no row refers to, pending uploads older than their URL's lifetime. It never touches
a blob a committed image uses, even while uploads run."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa

from pictograph.server.service import gc
from pictograph.server.service.context import AppContext, now
from pictograph.server.settings import ServerSettings
from pictograph.server.store import tables as t
from tests.images import make_image, sha256_of
from tests.served import PICTOGRAPH, serve
from tests.server.flows import create_dataset, upload, upload_url

HOUR_AGO = time.time() - 3600
DAY = gc.INTENT_HORIZON + timedelta(minutes=1)


def age(path: Path) -> None:
    os.utime(path, (HOUR_AGO, HOUR_AGO))


def leave_litter(home: Path, database_url: str, key: str, base_url: str) -> dict[str, Path]:
    """What a crashed server leaves: a half-written temporary file, a blob whose row never
    committed (its intent abandoned a day ago), and a pending upload nobody registered (its URL
    long expired)."""
    blobs = home / "blobs"
    temporary = blobs / "ab" / ".upload-crashed1.tmp"
    temporary.parent.mkdir(parents=True, exist_ok=True)
    temporary.write_bytes(b"half an image")
    store = AppContext.open(ServerSettings.embedded(home, database_url=database_url))
    try:
        orphan = store.blobs.write_stream([b"bytes whose row never committed"])
    finally:
        store.close()
    orphan_path = blobs / orphan.key[:2] / orphan.key
    image = make_image(home / "pending.png")
    with httpx.Client(base_url=base_url, headers={"X-API-Key": key}) as client:
        url = upload_url(client, "kept", "pending.png", "/", "image/png").json()["data"]
        assert (
            client.put(
                url["upload_url"], content=image.read_bytes(), headers={"content-type": "image/png"}
            ).status_code
            == 200
        )
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(t.pending_uploads.update().values(created_at=now() - timedelta(hours=2)))
        abandoned = t.blob_intents.c.blob_key == orphan.key
        conn.execute(t.blob_intents.update().where(abandoned).values(created_at=now() - DAY))
        pending_key = conn.execute(sa.select(t.pending_uploads.c.blob_key)).scalar_one()
    engine.dispose()
    pending_path = blobs / pending_key[:2] / pending_key
    for path in (temporary, orphan_path, pending_path):
        age(path)
    return {"temporary": temporary, "orphan": orphan_path, "pending": pending_path}


def run_gc(home: Path, database_url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PICTOGRAPH, "gc", "--home", str(home), "--database-url", database_url, *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_gc_lists_with_dry_run_then_removes_crash_litter_and_keeps_committed_images(
    tmp_path: Path, database_url: str
) -> None:
    with serve(tmp_path, database_url) as served:
        key = served.create_key("acme")
        with httpx.Client(base_url=served.base_url, headers={"X-API-Key": key}) as client:
            create_dataset(client, "kept")
            kept = [upload(client, "kept", make_image(tmp_path / f"k{i}.jpg")) for i in range(5)]
            litter = leave_litter(tmp_path, database_url, key, served.base_url)
    for blob in (tmp_path / "blobs").glob("??/*"):
        age(blob)  # committed blobs are old too: only being unused makes litter

    listed = run_gc(tmp_path, database_url, "--dry-run")
    assert "temporary file\tab/.upload-crashed1.tmp" in listed.stdout
    assert f"orphan blob\t{litter['orphan'].name}" in listed.stdout
    assert "expired upload\t" in listed.stdout and "pending.png" in listed.stdout
    assert all(path.exists() for path in litter.values())

    removed = run_gc(tmp_path, database_url)
    assert "removed 1 temporary files, 1 orphan blobs, 1 expired uploads" in removed.stderr
    assert not any(path.exists() for path in litter.values())
    with (
        serve(tmp_path, database_url) as served,
        httpx.Client(base_url=served.base_url, headers={"X-API-Key": key}) as client,
    ):
        for i, image in enumerate(kept):
            answer = client.get(httpx.URL(image["image_url"]).path)  # the new server's port
            assert answer.status_code == 200
            assert answer.content == (tmp_path / f"k{i}.jpg").read_bytes()
    assert "removed 0 temporary files, 0 orphan blobs" in run_gc(tmp_path, database_url).stderr


def test_a_server_sweeps_old_litter_when_it_starts(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    temporary = tmp_path / "blobs" / "cd" / ".upload-killed.tmp"
    temporary.parent.mkdir(parents=True)
    temporary.write_bytes(b"left by kill -9")
    age(temporary)
    fresh = tmp_path / "blobs" / "cd" / ".upload-inflight.tmp"
    fresh.write_bytes(b"an upload still being written")
    with serve(tmp_path, database_url):
        deadline = time.monotonic() + 10
        while temporary.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not temporary.exists()
        assert fresh.exists()  # younger than the grace period: perhaps an upload in flight


def test_gc_never_removes_a_blob_a_committed_image_uses_while_uploads_run(
    tmp_path: Path, database_url: str
) -> None:
    stop = threading.Event()
    sweeps = 0

    def sweep_again_and_again() -> None:
        nonlocal sweeps
        store = AppContext.open(ServerSettings.embedded(tmp_path, database_url=database_url))
        try:
            while not stop.is_set():
                gc.sweep(store, grace=timedelta(seconds=1))
                sweeps += 1
        finally:
            store.close()

    with serve(tmp_path, database_url) as served:
        key = served.create_key("acme")
        with httpx.Client(base_url=served.base_url, headers={"X-API-Key": key}) as client:
            create_dataset(client, "busy")
            sweeper = threading.Thread(target=sweep_again_and_again)
            sweeper.start()
            try:
                files = [make_image(tmp_path / "in" / f"f{i}.png", seed=i) for i in range(60)]
                images = [upload(client, "busy", path) for path in files]
                time.sleep(1.5)  # every blob is now older than the sweeper's grace period
            finally:
                stop.set()
                sweeper.join()
            assert sweeps >= 2
            for path, image in zip(files, images, strict=True):
                answer = client.get(image["image_url"])
                assert answer.status_code == 200, answer.text
                assert answer.content == path.read_bytes()
                assert image["sha256"] == sha256_of(path)

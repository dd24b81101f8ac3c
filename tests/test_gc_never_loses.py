"""gc with grace 0 racing uploads loses nothing, and one serve or gc runs on a SQLite home at a
time (issue 19, findings 2 and 3), against real ``pictograph serve`` processes."""

from __future__ import annotations

import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx

from pictograph import Client
from pictograph.server.service import gc
from pictograph.server.service.context import AppContext
from pictograph.server.settings import ServerSettings
from tests.images import make_image
from tests.served import PICTOGRAPH, free_port, serve
from tests.server.flows import create_dataset, upload


def test_gc_with_grace_0_looping_during_uploads_loses_no_bytes(
    tmp_path: Path, database_url: str
) -> None:
    folder = tmp_path / "in"
    for i in range(240):  # the SDK's folder upload: batches written together (write_many)
        make_image(folder / f"c{i % 4}" / f"f{i}.png", seed=i)
    singles = [make_image(tmp_path / "one" / f"s{i}.jpg", seed=i) for i in range(60)]
    stop = threading.Event()
    removed: list[str] = []
    sweeps = 0

    def sweep_again_and_again() -> None:
        nonlocal sweeps
        store = AppContext.open(ServerSettings.embedded(tmp_path, database_url=database_url))
        try:
            while not stop.is_set():
                report = gc.sweep(store, grace=timedelta(0))
                removed.extend(report.orphan_blobs + report.temporary_files)
                sweeps += 1
        finally:
            store.close()

    with serve(tmp_path, database_url, "--gc-interval", "0") as served:
        key = served.create_key("acme")
        sweeper = threading.Thread(target=sweep_again_and_again)
        sweeper.start()
        try:
            with Client(key, base_url=served.base_url) as client:
                report = client.images.upload_from_directory("busy", folder, max_workers=4)
            with httpx.Client(base_url=served.base_url, headers={"X-API-Key": key}) as http:
                create_dataset(http, "single")
                with ThreadPoolExecutor(4) as pool:  # one streamed PUT each (a blob writer)
                    list(pool.map(lambda path: upload(http, "single", path), singles))
        finally:
            stop.set()
            sweeper.join()
    assert report.failures == [] and report.images_uploaded == 240
    assert sweeps >= 3
    assert removed == [], (removed, report)  # nothing here was litter
    verified = subprocess.run(
        [PICTOGRAPH, "verify", "--store", "--home", str(tmp_path), "--database-url", database_url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "300 images checked, 0 missing, 0 with other bytes" in verified.stderr


def test_a_second_serve_or_gc_on_a_sqlite_home_in_use_refuses_with_one_line_and_exit_5(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite:///{tmp_path / 'pictograph.db'}"
    store_args = ["--home", str(tmp_path), "--database-url", database_url]

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PICTOGRAPH, *command, *store_args], capture_output=True, text=True, timeout=60
        )

    with serve(tmp_path, database_url) as first:
        second = run("serve", "--port", str(free_port()))
        sweep = run("gc", "--grace", "0")
        assert first.process.poll() is None  # the first server runs on
    for refused, command in ((second, "serve"), (sweep, "gc")):
        assert refused.returncode == 5, refused.stderr
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith(f"error: {tmp_path} is in use by pictograph serve (pid ")
        assert f"({command} refused to start)" in lines[0]
        assert "Pictograph serving" not in refused.stderr
    after = run("gc", "--grace", "0")  # the lock went with the first server
    assert after.returncode == 0, after.stderr

"""The ``pictograph serve`` command itself: signals, workers, options and environment, defaults."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from pictograph import Client
from pictograph.server.settings import DEFAULT_RATE_LIMIT
from tests.images import make_image, sha256_of
from tests.served import PICTOGRAPH, Served, free_port, launch, serve, stop

P = "/api/v1/developer"


def sqlite_url(tmp_path: Path) -> str:
    """These tests are about the command, not the database: SQLite keeps them quick."""
    return f"sqlite:///{tmp_path / 'metadata.db'}"


def signed_upload_url(served: Served, key: str, filename: str) -> str:
    headers = {"X-API-Key": key}
    created = httpx.post(f"{served.base_url}{P}/datasets/", json={"name": "ds"}, headers=headers)
    assert created.status_code == 201, created.text
    answer = httpx.post(
        f"{served.base_url}{P}/images/upload-url",
        json={"dataset": "ds", "filename": filename, "content_type": "image/jpeg"},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    url: str = answer.json()["data"]["upload_url"]
    return url


def wait_until_refusing(served: Served, timeout: float = 10.0) -> None:
    """Block until the server stops accepting connections (its shutdown has begun)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{served.base_url}{P}/datasets/", timeout=0.5)
        except httpx.ConnectError:
            return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"the server still accepted connections {timeout} s after the signal")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_serve_finishes_a_request_in_flight_then_exits_0_on_the_signal(
    tmp_path: Path, signum: signal.Signals
) -> None:
    body = make_image(tmp_path / "big.jpg", size=(400, 300)).read_bytes()
    halfway, carry_on = threading.Event(), threading.Event()

    def slow_body() -> Iterator[bytes]:
        yield body[: len(body) // 2]
        halfway.set()
        carry_on.wait(20)
        yield body[len(body) // 2 :]

    with serve(tmp_path / "home", sqlite_url(tmp_path)) as served:
        url = signed_upload_url(served, served.create_key("acme"), "big.jpg")
        with ThreadPoolExecutor(1) as pool:
            put = pool.submit(
                httpx.put, url, content=slow_body(), headers={"Content-Type": "image/jpeg"}
            )
            assert halfway.wait(10)
            time.sleep(0.2)  # let the first half reach the server
            served.process.send_signal(signum)
            wait_until_refusing(served)  # shutting down, with our upload half sent
            carry_on.set()
            answer = put.result(timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.json()["sha256"] == hashlib.sha256(body).hexdigest()
        assert served.process.wait(timeout=30) == 0


def test_serve_prints_the_url_it_serves_on(tmp_path: Path) -> None:
    port = free_port()
    command = ["serve", "--host", "127.0.0.1", "--port", str(port), "--home", str(tmp_path)]
    with launch(command, f"http://127.0.0.1:{port}", ("--home", str(tmp_path))) as served:
        pass
    first_line = served.output().splitlines()[0]
    assert first_line.rstrip().endswith(f"on http://127.0.0.1:{port}"), first_line


def test_serve_on_port_0_picks_a_free_port_and_prints_and_signs_with_it(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [PICTOGRAPH, "serve", "--port", "0", "--home", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    first_line = process.stdout.readline()
    base_url = first_line.rsplit(" on ", 1)[-1].strip()
    port = int(base_url.rsplit(":", 1)[-1])
    served = Served(base_url, ("--home", str(tmp_path)), process)
    try:
        assert base_url == f"http://127.0.0.1:{port}" and port > 0, first_line
        key = served.create_key("acme")
        deadline = time.monotonic() + 30
        while True:
            try:
                url = signed_upload_url(served, key, "x.jpg")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "serve --port 0 never answered"
                time.sleep(0.1)
        assert url.startswith(f"{base_url}/storage/upload/")
    finally:
        stop(served, signal.SIGTERM)


def stored_files(folder: Path) -> dict[str, Path]:
    """SHA-256 -> file, for every file under ``folder``."""
    return {sha256_of(path): path for path in folder.rglob("*") if path.is_file()}


def upload_one(served: Served, key: str, tmp_path: Path) -> str:
    """Upload a real image through our SDK; return its SHA-256."""
    picture = make_image(tmp_path / "source" / "x.png", size=(50, 40))
    with Client(api_key=key, base_url=served.base_url) as client:
        client.datasets.create("ds")
        image = client.images.upload("ds", picture)
    assert image.filename == "x.png"
    return sha256_of(picture)


def test_image_bytes_land_under_the_folder_the_storage_url_names(tmp_path: Path) -> None:
    home, elsewhere = tmp_path / "home", tmp_path / "bytes elsewhere"
    storage = ("--storage-url", elsewhere.as_uri())
    with serve(home, sqlite_url(tmp_path), *storage) as served:
        digest = upload_one(served, served.create_key("acme"), tmp_path)
    assert digest in stored_files(elsewhere)
    assert not (home / "blobs").exists() or stored_files(home / "blobs") == {}


def test_serve_reads_port_home_and_storage_from_pictograph_environment_variables(
    tmp_path: Path,
) -> None:
    port, home, storage = free_port(), tmp_path / "home", tmp_path / "storage"
    env = {
        "PICTOGRAPH_PORT": str(port),
        "PICTOGRAPH_HOME": str(home),
        "PICTOGRAPH_STORAGE_URL": storage.as_uri(),
    }
    with launch(["serve"], f"http://127.0.0.1:{port}", ("--home", str(home)), env) as served:
        key = served.create_key("acme")  # made in --home's database: the one serve opened
        digest = upload_one(served, key, tmp_path)
    assert (home / "pictograph.db").is_file()
    assert digest in stored_files(storage)


def worker_processes(parent: int) -> list[int]:
    """The uvicorn worker processes (multiprocessing spawns) under ``parent``."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return [
        int(pid)
        for pid in children
        if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    ]


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc (Linux)")
def test_serve_with_two_workers_runs_two_processes_that_answer_and_exits_0(
    tmp_path: Path,
) -> None:
    with serve(tmp_path / "home", sqlite_url(tmp_path), "--workers", "2") as served:
        headers = {"X-API-Key": served.create_key("acme")}
        created = httpx.post(
            f"{served.base_url}{P}/datasets/", json={"name": "two"}, headers=headers
        )
        listed = [httpx.get(f"{served.base_url}{P}/datasets/", headers=headers) for _ in range(4)]
        # The server answers once one worker is up; the second may still be starting.
        deadline = time.monotonic() + 30
        while len(worker_processes(served.process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(worker_processes(served.process.pid)) == 2
        assert stop(served, signal.SIGTERM) == 0
    assert created.status_code == 201
    assert all(r.status_code == 200 and r.json()["data"][0]["name"] == "two" for r in listed)


def test_the_default_rate_limit_is_on_without_rate_limit_options(tmp_path: Path) -> None:
    burst = DEFAULT_RATE_LIMIT.burst
    answers: list[httpx.Response] = []
    with serve(tmp_path / "home", sqlite_url(tmp_path)) as served:
        headers = {"X-API-Key": served.create_key("acme")}
        url = f"{served.base_url}{P}/no/such/route"  # keyed and limited, then a cheap 404
        with httpx.Client(headers=headers) as http, ThreadPoolExecutor(16) as pool:
            # Rounds of a burst each, until the bucket runs dry (or 8 bursts: the limit is off).
            while len(answers) < 8 * burst and all(a.status_code != 429 for a in answers):
                answers += pool.map(lambda _: http.get(url), range(burst))
    codes = [answer.status_code for answer in answers]
    assert set(codes) == {404, 429}
    assert codes.count(404) >= burst  # the documented burst went through before any refusal
    limited = answers[codes.index(429)]
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"]["code"] == "rate_limited"
    assert "rate limit" in limited.json()["error"]["message"]

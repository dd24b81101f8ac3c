"""Similarity search under load, on the real app served by uvicorn in this process (so the
descriptor counter of ``service/descriptors.py`` can be read): a burst of first searches over
large images neither starves another organisation nor decodes an image twice, descriptors are
made once an image is stored, and a search whose client leaves stops deciding to decode."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI

from pictograph.server import ServerSettings, create_app
from pictograph.server.imaging import DecodeBudget
from pictograph.server.service import descriptors
from pictograph.server.service.keys import create_key
from pictograph.server.store import tables as t
from tests.images import large_scene
from tests.served import free_port
from tests.server.flows import P, create_dataset, upload

FILES = 30
SIDE = 2000
SEARCHES = 24


@pytest.fixture(scope="module")
def large_folder(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("large")
    return [large_scene(root / f"scene-{n:02d}.png", SIDE, seed=n) for n in range(FILES)]


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """``app`` served by uvicorn on a thread of this process; its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.fixture
def two_orgs(database_url: str, tmp_path: Path) -> Iterator[tuple[FastAPI, str, str, str]]:
    """The app served with keys required: (app, base URL, a key of acme, a key of globex)."""
    settings = ServerSettings(
        home=tmp_path,
        database_url=database_url,
        storage_url=f"file://{tmp_path}/blobs",
        require_api_key=True,
    )
    app = create_app(settings)
    store = app.state.store
    acme, globex = create_key(store, "acme")[1], create_key(store, "globex")[1]
    with served(app) as base_url:
        yield app, base_url, acme, globex


def _upload_all(base_url: str, key: str, files: list[Path]) -> list[dict[str, Any]]:
    with httpx.Client(base_url=base_url, headers={"X-API-Key": key}, timeout=60) as client:
        create_dataset(client, "large")
        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(lambda path: upload(client, "large", path), files))


def _expected_ranking(files: list[Path], query: int) -> list[tuple[str, float]]:
    """Filenames and scores the search must answer, from the files themselves."""
    made = {path.name: descriptors.describe(path, DecodeBudget()) for path in files}
    source = made[files[query].name]
    scores = [(name, round(descriptors.similarity(source, d), 6)) for name, d in made.items()]
    ranked = [pair for pair in scores if pair[0] != files[query].name]
    return sorted(ranked, key=lambda pair: -pair[1])


def _stored_descriptors(app: FastAPI) -> int:
    with app.state.store.read() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(t.image_descriptors))
        return int(count.scalar_one())


def test_concurrent_first_searches_neither_starve_another_org_nor_decode_twice(
    two_orgs: tuple[FastAPI, str, str, str], large_folder: list[Path]
) -> None:
    app, base_url, acme, globex = two_orgs
    # Images stored without descriptors (as by a version before they were made at store): the
    # searches below are first searches, each needing all of them.
    app.state.descriptor_worker.stop()
    images = _upload_all(base_url, acme, large_folder)
    assert _stored_descriptors(app) == 0
    query = images[0]
    before = descriptors.computed()
    stop = threading.Event()
    get_times: list[float] = []

    def other_org_gets() -> None:
        with httpx.Client(base_url=base_url, headers={"X-API-Key": globex}) as client:
            while not stop.is_set():
                began = time.monotonic()
                answer = client.get(f"{P}/datasets/", timeout=30)
                get_times.append(time.monotonic() - began)
                assert answer.status_code == 200
                time.sleep(0.05)

    def search(_: int) -> list[tuple[str, float]]:
        with httpx.Client(base_url=base_url, headers={"X-API-Key": acme}) as client:
            params = {"image_id": query["id"], "threshold": 0, "limit": 100}
            answer = client.get(f"{P}/search/similar", params=params, timeout=120)
        assert answer.status_code == 200, answer.text
        return [(hit["filename"], hit["similarity"]) for hit in answer.json()["results"]]

    watcher = threading.Thread(target=other_org_gets)
    watcher.start()
    try:
        with ThreadPoolExecutor(SEARCHES) as pool:
            answers = list(pool.map(search, range(SEARCHES)))
    finally:
        stop.set()
        watcher.join(60)

    assert descriptors.computed() - before == FILES  # each image decoded once, for all 24
    assert _stored_descriptors(app) == FILES
    expected = _expected_ranking(large_folder, 0)
    for answer in answers:
        assert sorted(answer, key=lambda pair: (-pair[1], pair[0])) == sorted(
            expected, key=lambda pair: (-pair[1], pair[0])
        )
    assert len(get_times) >= 10, get_times
    assert max(get_times) < 2.0, sorted(get_times)[-5:]


def test_after_upload_the_worker_has_described_every_image_and_a_first_search_decodes_none(
    two_orgs: tuple[FastAPI, str, str, str], large_folder: list[Path]
) -> None:
    app, base_url, acme, _ = two_orgs
    images = _upload_all(base_url, acme, large_folder[:6])
    deadline = time.monotonic() + 60
    while _stored_descriptors(app) < 6 or app.state.descriptor_worker.busy():
        assert time.monotonic() < deadline, "the descriptor worker did not describe the images"
        time.sleep(0.1)
    before = descriptors.computed()
    with httpx.Client(base_url=base_url, headers={"X-API-Key": acme}) as client:
        params = {"image_id": images[0]["id"], "threshold": 0}
        answer = client.get(f"{P}/search/similar", params=params, timeout=60)
    assert answer.status_code == 200
    assert len(answer.json()["results"]) == 5
    assert descriptors.computed() == before


def test_a_search_whose_client_disconnects_stops_decoding(
    two_orgs: tuple[FastAPI, str, str, str], large_folder: list[Path]
) -> None:
    app, base_url, acme, _ = two_orgs
    app.state.descriptor_worker.stop()
    images = _upload_all(base_url, acme, large_folder)
    before = descriptors.computed()
    port = int(base_url.rsplit(":", 1)[1])
    request = (
        f"GET {P}/search/similar?image_id={images[0]['id']}&threshold=0 HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nX-API-Key: {acme}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        deadline = time.monotonic() + 30
        while descriptors.computed() == before:  # the search has started decoding
            assert time.monotonic() < deadline
            time.sleep(0.02)
    # The client is gone: the image in hand may finish, then nothing more is started.
    time.sleep(3)
    settled = descriptors.computed() - before
    time.sleep(2)
    assert descriptors.computed() - before == settled
    assert 1 <= settled <= 3 < FILES
    assert _stored_descriptors(app) == settled  # what was decoded is kept for the next search

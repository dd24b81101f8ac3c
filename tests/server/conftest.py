"""Fixtures for server tests: the real app on SQLite and PostgreSQL, driven over HTTP in-process."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pictograph.server import ServerSettings, create_app

with warnings.catch_warnings():
    # Starlette asks for the httpx2 package; plain httpx works the same for these tests.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

MakeClient = Callable[..., TestClient]


@pytest.fixture
def make_client(database_url: str, tmp_path: Path) -> Iterator[MakeClient]:
    """Build a client on a fresh app; keyword arguments override ``ServerSettings`` fields."""
    clients: list[TestClient] = []

    def build(**overrides: Any) -> TestClient:
        settings = ServerSettings(
            home=tmp_path,
            database_url=database_url,
            storage_url=f"file://{tmp_path}/blobs",
            **overrides,
        )
        client = TestClient(create_app(settings), follow_redirects=False)
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def app_client(make_client: MakeClient) -> TestClient:
    """A client on the app with default settings (no API key required)."""
    return make_client()


@pytest.fixture
def blob_root(tmp_path: Path) -> Path:
    return tmp_path / "blobs"

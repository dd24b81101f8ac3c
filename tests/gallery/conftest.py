"""Fixtures for gallery tests: the real app, a browser-like client with cookies, API clients."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pictograph.server import ServerSettings, create_app
from pictograph.server.service import keys
from pictograph.server.service.context import AppContext
from tests.images import make_image
from tests.server import flows

with warnings.catch_warnings():
    # Starlette asks for the httpx2 package; plain httpx works the same for these tests.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@dataclass
class Gallery:
    """One app: ``browser`` keeps cookies like a browser; ``api(key)`` speaks the developer API."""

    browser: TestClient
    home: Path
    _clients: list[TestClient] = field(default_factory=list)

    @property
    def store(self) -> AppContext:
        store: AppContext = self.browser.app.state.store  # type: ignore[attr-defined]
        return store

    def create_key(self, organization: str) -> tuple[str, str]:
        """(key id, raw key) of a new key for ``organization``."""
        info, raw_key = keys.create_key(self.store, organization)
        return info.id, raw_key

    def api(self, key: str | None = None) -> TestClient:
        headers = {"X-API-Key": key} if key else {}
        client = TestClient(self.browser.app, headers=headers, follow_redirects=False)
        self._clients.append(client)
        return client

    def sign_in(self, key: str) -> None:
        response = self.browser.post("/login", data={"api_key": key})
        assert response.status_code == 303, response.text

    def upload(self, key: str | None, dataset: str, folder: str, *names: str) -> list[str]:
        """Upload real images named ``names`` into ``folder``; their image ids."""
        api = self.api(key)
        ids = []
        for name in names:
            path = make_image(self.home / "source" / folder.strip("/") / name, size=(40, 30))
            ids.append(str(flows.upload(api, dataset, path, folder)["id"]))
        return ids


def _make(database_url: str, home: Path, require_api_key: bool) -> TestClient:
    settings = ServerSettings(
        home=home,
        database_url=database_url,
        storage_url=f"file://{home}/blobs",
        require_api_key=require_api_key,
    )
    return TestClient(create_app(settings), follow_redirects=False)


@pytest.fixture
def keyed(database_url: str, tmp_path: Path) -> Iterator[Gallery]:
    """A server that needs API keys, as ``pictograph serve`` runs."""
    with _make(database_url, tmp_path, require_api_key=True) as browser:
        yield Gallery(browser, tmp_path)


@pytest.fixture
def keyless(database_url: str, tmp_path: Path) -> Iterator[Gallery]:
    """A server without keys (the embedded store's settings)."""
    with _make(database_url, tmp_path, require_api_key=False) as browser:
        yield Gallery(browser, tmp_path)


def thumbnails_in(html: str) -> list[str]:
    """The image ids whose thumbnails a page shows, in order."""
    return re.findall(r'src="/images/([0-9a-f-]{36})/thumbnail"', html)

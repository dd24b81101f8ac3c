"""``Client``: resolves configuration once, picks a transport, holds the resources."""

from __future__ import annotations

import os
from types import TracebackType
from typing import Self

import httpx

from pictograph._transport import Transport
from pictograph.config import ClientSettings, Mode, resolve_settings
from pictograph.resources.access import ApiKeys, AuditTrail, Organizations
from pictograph.resources.annotations import Annotations
from pictograph.resources.batch import Batch
from pictograph.resources.datasets import Datasets
from pictograph.resources.directories import Directories
from pictograph.resources.exports import Exports
from pictograph.resources.images import Images
from pictograph.resources.search import Search
from pictograph.resources.trash import Trash
from pictograph.resources.versions import Versions

__all__ = ["Client"]


class Client:
    """The Pictograph SDK client.

    With nothing configured it runs **embedded**: the server app in this process, its data under
    ``home`` (``PICTOGRAPH_HOME``, default ``~/.pictograph``). With ``base_url`` and ``api_key``
    (or ``PICTOGRAPH_BASE_URL`` and ``PICTOGRAPH_API_KEY``) it talks HTTP to a server. Explicit
    arguments win over the environment.

    Raises ``ConfigurationError`` for a base URL without a key, a timeout <= 0, or negative
    ``max_retries``.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        home: str | os.PathLike[str] | None = None,
    ) -> None:
        self.settings: ClientSettings = resolve_settings(
            api_key, base_url=base_url, timeout=timeout, max_retries=max_retries, home=home
        )
        inner = _embedded_transport(self.settings) if self.mode == "embedded" else None
        self._transport = Transport(
            self.settings.base_url,
            api_key=self.settings.api_key,
            timeout=self.settings.timeout,
            max_retries=self.settings.max_retries,
            transport=inner,
        )
        self.datasets = Datasets(self)
        self.images = Images(self)
        self.directories = Directories(self)
        self.annotations = Annotations(self)
        self.exports = Exports(self)
        self.versions = Versions(self)
        self.batch = Batch(self)
        self.search = Search(self)
        self.api_keys = ApiKeys(self)
        self.audit = AuditTrail(self)
        self.organizations = Organizations(self)
        self.trash = Trash(self)

    @property
    def mode(self) -> Mode:
        """``"embedded"`` (the app runs in this process) or ``"http"`` (a server over a socket)."""
        return self.settings.mode

    @property
    def base_url(self) -> str:
        """The API's base URL, without a trailing slash."""
        return self.settings.base_url

    def close(self) -> None:
        """Release connections; in embedded mode also shut the in-process app down."""
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client(mode={self.mode!r}, base_url={self.base_url!r})"


def _embedded_transport(settings: ClientSettings) -> httpx.BaseTransport:
    """The server on the embedded store, served in-process (imported only now): the store is
    opened at once, the app built on the first request that needs it (``server.embedded``)."""
    from pictograph._embedded import EmbeddedTransport
    from pictograph.server.embedded import EmbeddedServer
    from pictograph.server.settings import ServerSettings

    settings.home.mkdir(parents=True, exist_ok=True)
    server = EmbeddedServer(
        ServerSettings.embedded(
            settings.home, database_url=settings.database_url, storage_url=settings.storage_url
        )
    )
    return EmbeddedTransport(build=server.build_app, service=server, release=server.close)

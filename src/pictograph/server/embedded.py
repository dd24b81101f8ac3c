"""The embedded client's server side: its store opened at once, its app built when first needed.

Building the FastAPI app (importing every route, analysing their dependencies, the OpenAPI
models) costs most of an embedded ``Client()``'s start. A run that only reads through the
in-process upload channel (a re-run of an unchanged folder: one dataset lookup and one names
digest, the very service functions those routes call, under their rules) needs the store and
the principal, not the app; everything else builds it on its first request
(``pictograph._embedded.EmbeddedTransport``). Anything that stores images needs the app built:
its descriptor worker is told of each stored image (``store.on_stored``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pictograph.server.service.context import AppContext
from pictograph.server.service.keys import Principal, local_principal
from pictograph.server.settings import ServerSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["EmbeddedServer"]


class EmbeddedServer:
    """The store of ``settings``, opened (and migrated) now, and who embedded calls act for."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.store = AppContext.open(settings)
        try:
            #: Who every request acts for without keys (``None`` when keys are required: such
            #: a server is a served one, and no in-process channel may bypass its keys).
            self.principal: Principal | None = (
                None if settings.require_api_key else local_principal(self.store)
            )
        except BaseException:
            self.store.close()
            raise

    def build_app(self) -> FastAPI:
        """The app on this store, without the gallery (imported only now); its lifespan starts
        its workers and, at shutdown, closes the store."""
        from pictograph.server.app import create_app

        return create_app(self.settings, gallery=False, opened_store=self.store)

    def close(self) -> None:
        """Release the store when no app was built (an app's lifespan shutdown does it)."""
        self.store.close()

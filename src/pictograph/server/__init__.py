"""The Pictograph server: one ASGI app speaking the developer API (see ``app.create_app``)."""

from pictograph.server.app import create_app
from pictograph.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]

"""The web gallery: server-rendered HTML pages over the same service layer as the API."""

from pictograph.server.gallery.routes import router

__all__ = ["router"]

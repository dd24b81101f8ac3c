"""The Pictograph server: one ASGI app speaking the developer API (see ``app.create_app``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph.server.settings import ServerSettings

if TYPE_CHECKING:
    from pictograph.server.app import create_app

__all__ = ["ServerSettings", "create_app"]


def __getattr__(name: str) -> Any:
    """``create_app`` is imported on first use: reading settings must not build the app."""
    if name == "create_app":
        from pictograph.server.app import create_app

        return create_app
    raise AttributeError(f"module 'pictograph.server' has no attribute {name!r}")

"""Where the client commands send their SDK calls: the embedded store, or a served instance."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from pictograph.client import Client


@dataclass(frozen=True)
class Connection:
    """The group's --api-key, --base-url and --home, resolved by ``Client`` like any SDK user's.

    Nothing set means the embedded default under ``PICTOGRAPH_HOME`` (``~/.pictograph``).
    """

    api_key: str | None = None
    base_url: str | None = None
    home: Path | None = None

    def client(self) -> Client:
        """A new client; raises ``ConfigurationError`` for a URL without a key (or the reverse)."""
        from pictograph.client import Client

        return Client(self.api_key, base_url=self.base_url, home=self.home)


pass_connection = click.make_pass_decorator(Connection)

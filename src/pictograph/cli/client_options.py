"""The global options (--home, --base-url, --api-key), resolved once into a ``Connection``.

They belong before the command (``pictograph --home H keys create``) but work after it too
(``pictograph keys create --home H``): each command accepts them, hidden from its help, and a
value given there wins over the group's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from pictograph.errors import ConfigurationError

if TYPE_CHECKING:
    from pictograph.client import Client

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Connection:
    """Where commands act: a served instance (``base_url`` + ``api_key``) or the store in ``home``.

    Nothing set means the embedded default under ``PICTOGRAPH_HOME`` (``~/.pictograph``).
    """

    api_key: str | None = None
    base_url: str | None = None
    home: Path | None = None

    @property
    def server(self) -> str | None:
        """The served instance's URL without the API's path, or None for the embedded store."""
        from pictograph.protocol import API_PREFIX

        # The SDK adds the API's path itself; a URL copied with it still means the same server.
        url = (self.base_url or "").strip().rstrip("/")
        if url.endswith(API_PREFIX):
            url = url[: -len(API_PREFIX)]
        return url or None

    @property
    def embedded(self) -> bool:
        return self.server is None and not self.api_key

    def client(self) -> Client:
        """A new client; raises ``ConfigurationError`` for a URL without a key (or the reverse)."""
        from pictograph.client import Client

        if self.server and not self.api_key:
            raise ConfigurationError(
                f"--base-url {self.server} needs an API key: pass --api-key KEY or set "
                "PICTOGRAPH_API_KEY (make one with: pictograph keys create)"
            )
        if self.api_key and not self.server:
            raise ConfigurationError(
                "--api-key needs the server's URL: pass --base-url URL or set PICTOGRAPH_BASE_URL"
            )
        return Client(self.api_key, base_url=self.server, home=self.home)


pass_connection = click.make_pass_decorator(Connection)


def _override(field: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value is not None:
            current = ctx.find_object(Connection) or Connection()
            ctx.obj = replace(current, **{field: value})

    return callback


def connection_options(command: F) -> F:
    """Accept the global options after the command too (hidden; the group's help shows them)."""
    options = [
        click.option(
            "--home",
            type=click.Path(path_type=Path),
            hidden=True,
            expose_value=False,
            callback=_override("home"),
        ),
        click.option("--base-url", hidden=True, expose_value=False, callback=_override("base_url")),
        click.option("--api-key", hidden=True, expose_value=False, callback=_override("api_key")),
    ]
    for option in options:
        command = option(command)
    return command

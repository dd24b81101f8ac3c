"""The options that say where a store lives, shared by ``serve`` and ``keys``.

The store's folder is the global ``--home`` (``PICTOGRAPH_HOME``), resolved once by the group;
these add where its metadata and bytes live when they are not under it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from pictograph.cli.client_options import connection_options
from pictograph.config import DEFAULT_HOME
from pictograph.server.settings import ServerSettings

if TYPE_CHECKING:
    from pictograph.server.service.context import AppContext

F = TypeVar("F", bound=Callable[..., Any])


def store_options(command: F) -> F:
    """Add --database-url and --storage-url (each also from PICTOGRAPH_*); --home is global."""
    options = [
        click.option(
            "--database-url",
            envvar="PICTOGRAPH_DATABASE_URL",
            help="sqlite:///... or postgresql://... [default: SQLite under --home]",
        ),
        click.option(
            "--storage-url",
            envvar="PICTOGRAPH_STORAGE_URL",
            help="file:///... or s3://bucket/prefix for image bytes [default: blobs/ in --home]",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return connection_options(command)


def settings_for(
    home: Path | None, database_url: str | None, storage_url: str | None, **extra: Any
) -> ServerSettings:
    """Server settings from the store options; unset ones default to the embedded layout."""
    base = ServerSettings.embedded(Path(home or DEFAULT_HOME).expanduser())
    return ServerSettings(
        home=base.home,
        database_url=database_url or base.database_url,
        storage_url=storage_url or base.storage_url,
        **extra,
    )


@contextmanager
def opened_store(
    home: Path | None, database_url: str | None, storage_url: str | None
) -> Iterator[AppContext]:
    """The store the options name, migrated and open for the duration of a command."""
    from pictograph.server.service.context import AppContext

    store = AppContext.open(settings_for(home, database_url, storage_url))
    try:
        yield store
    finally:
        store.close()

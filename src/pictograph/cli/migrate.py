"""``pictograph migrate``: bring the database schema to this version, once for all replicas."""

from __future__ import annotations

import click

from pictograph.cli.client_options import Connection, pass_connection
from pictograph.cli.server_options import settings_for, store_options


@click.command()
@store_options
@pass_connection
def migrate(connection: Connection, database_url: str | None, storage_url: str | None) -> None:
    """Run the database migrations (Alembic upgrade head), then exit.

    Replicas refuse to start on a database an older version left; run this once, then start
    (or roll) them. Safe to run again, and from several hosts at once (they take turns).

    \b
    Example:
      pictograph migrate --database-url postgresql://pictograph@db/pictograph
    """
    from pictograph.server.store.database import SCHEMA_HEAD, open_database, schema_revision

    settings = settings_for(connection.home, database_url, storage_url)
    engine = open_database(settings.database_url)
    try:
        revision = schema_revision(engine)
    finally:
        engine.dispose()
    click.echo(f"Database schema at revision {revision} (this version needs {SCHEMA_HEAD}).")

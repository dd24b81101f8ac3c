"""Opening the metadata database: engine set-up per dialect and Alembic ``upgrade head``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from pictograph.errors import ConfigurationError
from pictograph.server.settings import normalise_database_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: The newest migration (a test checks it is Alembic's head). A database already there is
#: opened without loading Alembic, which otherwise costs every embedded ``Client()`` and every
#: command-line call a fifth of a second.
SCHEMA_HEAD = "0018_quarantine"
#: PostgreSQL advisory lock taken while migrating: replicas starting together take turns.
_MIGRATION_LOCK = 0x70696374  # "pict"

#: Execution option asking SQLite to take the write lock when the transaction begins.
WRITE = {"pictograph_write": True}


def open_database(url: str, *, pool_size: int | None = None) -> sa.Engine:
    """An engine on ``url`` (PostgreSQL: ``pool_size`` connections kept open) with the schema
    migrated to the newest revision.

    Raises ``ConfigurationError`` for a URL scheme we do not support.
    """
    engine = _create_engine(url, pool_size)
    migrate(engine)
    return engine


def check_schema(url: str) -> None:
    """Before a replica starts: create the schema of an empty database, and refuse one that an
    older version left (``ConfigurationError`` with a one-line message). Upgrading a database
    other replicas use is ``pictograph migrate``'s job, run once, not every replica's."""
    engine = _create_engine(url, 1)
    try:
        found = schema_revision(engine)
        if found is None:
            migrate(engine)
        elif found != SCHEMA_HEAD:
            raise ConfigurationError(
                f"the database schema is at revision {found} but this version needs "
                f"{SCHEMA_HEAD}: run `pictograph migrate --database-url ...` once, then start "
                "the replicas"
            )
    finally:
        engine.dispose()


def migrate(engine: sa.Engine, revision: str = SCHEMA_HEAD) -> None:
    """Run Alembic ``upgrade`` on ``engine`` to ``revision`` unless it is there already."""
    if schema_revision(engine) == revision:
        return
    from alembic import command

    config = alembic_config()
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":  # held until the upgrade commits
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
            )
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()


def alembic_config() -> Any:
    """Alembic's configuration for our migrations (loads Alembic)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


class UnusableDatabaseError(OSError):
    """The metadata database cannot be opened or read: its folder cannot be written (a
    read-only home), the file is not a database or is damaged, the server refuses. An
    ``OSError``: the command line ends with one line, as for any local file it cannot use."""


def schema_revision(engine: sa.Engine) -> str | None:
    """The migration ``engine``'s database is at; ``None`` for a database never migrated.
    The first contact with a database: ``UnusableDatabaseError`` when it cannot be read."""
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("alembic_version"):
                return None
            query = sa.text("SELECT version_num FROM alembic_version")
            revision = connection.execute(query).scalar()
    except sa.exc.DBAPIError as error:
        shown = engine.url.render_as_string(hide_password=True)
        raise UnusableDatabaseError(
            f"cannot use the metadata database {shown}: {error.orig}"
        ) from error
    return str(revision) if revision is not None else None


def _create_engine(url: str, pool_size: int | None = None) -> sa.Engine:
    parsed = sa.make_url(normalise_database_url(url))
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.get_backend_name() == "postgresql":
        size = pool_size or 10
        return sa.create_engine(parsed, pool_size=size, max_overflow=3 * size, pool_pre_ping=True)
    raise ConfigurationError(f"unsupported database URL scheme: {parsed.drivername}")


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=16,
        max_overflow=32,
    )
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see _sqlite_on_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_on_begin(connection: sa.Connection) -> None:
    # A write transaction takes the lock up front: a deferred one that reads and then writes can
    # fail at once with "database is locked" when another writer got in between.
    if connection.get_execution_options().get("pictograph_write"):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")

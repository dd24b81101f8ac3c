"""``pictograph serve`` and ``pictograph keys``: run the server, manage its API keys."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from types import FrameType

import click

from pictograph.cli.server_options import opened_store, settings_for, store_options
from pictograph.server.settings import DEFAULT_RATE_LIMIT, ServerSettings

SETTINGS_ENV = "PICTOGRAPH_SERVER_SETTINGS_JSON"


@click.command()
@click.option("--host", envvar="PICTOGRAPH_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="PICTOGRAPH_PORT", default=8000, show_default=True, type=int)
@click.option("--workers", envvar="PICTOGRAPH_WORKERS", default=1, show_default=True, type=int)
@store_options
@click.option("--redis-url", envvar="PICTOGRAPH_REDIS_URL", help="Share rate limits via Redis.")
@click.option(
    "--rate-limit",
    envvar="PICTOGRAPH_RATE_LIMIT",
    type=float,
    default=DEFAULT_RATE_LIMIT.per_second,
    show_default=True,
    help="Requests per second per API key (0 turns the limit off).",
)
@click.option(
    "--rate-burst",
    envvar="PICTOGRAPH_RATE_BURST",
    type=int,
    default=DEFAULT_RATE_LIMIT.burst,
    show_default=True,
    help="Requests a key may send at once before the limit applies.",
)
@click.option("--public-url", envvar="PICTOGRAPH_PUBLIC_URL", help="URL clients reach us at.")
@click.option(
    "--db-pool-size",
    envvar="PICTOGRAPH_DB_POOL_SIZE",
    type=click.IntRange(min=1),
    default=None,
    help="PostgreSQL connections each worker keeps open [default: 10; 3x more under load].",
)
@click.option(
    "--max-upload-mb", envvar="PICTOGRAPH_MAX_UPLOAD_MB", default=200, show_default=True, type=int
)
@click.option(
    "--signed-url-ttl",
    envvar="PICTOGRAPH_SIGNED_URL_TTL",
    default=3600,
    show_default=True,
    type=int,
    help="Seconds a signed upload or download URL stays valid.",
)
def serve(
    host: str,
    port: int,
    workers: int,
    home: Path | None,
    database_url: str | None,
    storage_url: str | None,
    redis_url: str | None,
    rate_limit: float,
    rate_burst: int,
    public_url: str | None,
    db_pool_size: int | None,
    max_upload_mb: int,
    signed_url_ttl: int,
) -> None:
    """Serve the Pictograph developer API (and the gallery) over HTTP."""
    import uvicorn

    settings = settings_for(
        home,
        database_url,
        storage_url,
        require_api_key=True,
        redis_url=redis_url,
        rate_limit_per_second=rate_limit,
        rate_limit_burst=rate_burst,
        public_base_url=public_url,
        max_upload_bytes=max_upload_mb * 1024 * 1024,
        signed_url_ttl_seconds=signed_url_ttl,
        database_pool_size=db_pool_size,
    )
    _check_schema(settings.database_url)
    # Worker processes rebuild the same settings from this one serialised copy.
    os.environ[SETTINGS_ENV] = json.dumps(settings.to_json())
    shown = public_url or f"http://{host}:{port}"
    click.echo(f"Pictograph serving {settings.database_url.split('@')[-1]} on {shown}", err=True)
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(
        "pictograph.cli.serve:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        timeout_graceful_shutdown=30,
    )


def _check_schema(database_url: str) -> None:
    """Refuse to start on a database an older version left; see ``pictograph migrate``."""
    from pictograph.server.store.database import check_schema

    check_schema(database_url)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    """End the command with status 0 on SIGTERM, as on SIGINT.

    uvicorn handles SIGTERM while it serves (stops accepting, finishes requests in flight), then
    puts this handler back and raises the signal again; without it the process would die of it.
    """
    sys.exit(0)


def app_from_environment() -> object:
    """The app factory each uvicorn worker calls."""
    from pictograph.server.app import create_app

    return create_app(ServerSettings.from_json(json.loads(os.environ[SETTINGS_ENV])))


@click.group()
def keys() -> None:
    """Create, list and revoke API keys (shown once; only a hash is stored)."""


@keys.command("create")
@click.option("--org", "organization", required=True, help="Organisation (created if needed).")
@click.option("--name", default="default", show_default=True, help="A label for the key.")
@store_options
def create_key(
    organization: str,
    name: str,
    home: Path | None,
    database_url: str | None,
    storage_url: str | None,
) -> None:
    """Create a key; the key itself is the last line printed."""
    from pictograph.server.service import keys as service

    with opened_store(home, database_url, storage_url) as store:
        info, raw_key = service.create_key(store, organization, name)
    click.echo(f"Created key {info.id} ({info.prefix}...) for organisation {organization!r}.")
    click.echo("Store it now: it is shown only once.")
    click.echo(raw_key)


@keys.command("list")
@click.option("--org", "organization", default=None, help="Only this organisation's keys.")
@store_options
def list_keys(
    organization: str | None, home: Path | None, database_url: str | None, storage_url: str | None
) -> None:
    """List keys (id, organisation, name, prefix, created, revoked)."""
    from pictograph.server.service import keys as service

    with opened_store(home, database_url, storage_url) as store:
        rows = service.list_keys(store, organization)
    for row in rows:
        state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
        click.echo(
            f"{row.id}  {row.organization}  {row.name}  {row.prefix}...  "
            f"{row.created_at:%Y-%m-%d %H:%M}  {state}"
        )


@keys.command("revoke")
@click.argument("key_id")
@store_options
def revoke_key(
    key_id: str, home: Path | None, database_url: str | None, storage_url: str | None
) -> None:
    """Revoke the key with id KEY_ID: requests with it get 401 from then on."""
    from pictograph.server.service import keys as service

    with opened_store(home, database_url, storage_url) as store:
        service.revoke_key(store, key_id)
    click.echo(f"Revoked key {key_id}.")

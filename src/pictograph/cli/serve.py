"""``pictograph serve`` and ``pictograph keys``: run the server, manage its API keys."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from pathlib import Path
from types import FrameType

import click

from pictograph.cli.server_options import opened_store, settings_for, store_options
from pictograph.server.settings import DEFAULT_RATE_LIMIT, SETTINGS_ENV, ServerSettings

_DEFAULTS = ServerSettings(home=Path(), database_url="", storage_url="")


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
@click.option(
    "--max-image-pixels",
    envvar="PICTOGRAPH_MAX_IMAGE_PIXELS",
    type=int,
    default=_DEFAULTS.max_image_pixels,
    show_default=True,
    help="Images with more pixels are refused (422) before they are decoded.",
)
@click.option(
    "--decode-memory-mb",
    envvar="PICTOGRAPH_DECODE_MEMORY_MB",
    type=int,
    default=_DEFAULTS.decode_memory_bytes // (1024 * 1024),
    show_default=True,
    help="Decoded pixels all image checks and thumbnails may hold at once.",
)
@click.option(
    "--max-header-kb",
    envvar="PICTOGRAPH_MAX_HEADER_KB",
    type=int,
    default=_DEFAULTS.max_header_bytes // 1024,
    show_default=True,
    help="Largest request header (431 beyond).",
)
@click.option(
    "--header-timeout",
    envvar="PICTOGRAPH_HEADER_TIMEOUT",
    type=float,
    default=_DEFAULTS.header_timeout_seconds,
    show_default=True,
    help="Seconds a client has to send a request's header once it starts (or connects).",
)
@click.option(
    "--body-timeout",
    envvar="PICTOGRAPH_BODY_TIMEOUT",
    type=float,
    default=_DEFAULTS.body_timeout_seconds,
    show_default=True,
    help="Seconds a request body may send nothing before the request is dropped (408).",
)
@click.option(
    "--keep-alive",
    envvar="PICTOGRAPH_KEEP_ALIVE",
    type=int,
    default=_DEFAULTS.keep_alive_seconds,
    show_default=True,
    help="Seconds an idle keep-alive connection stays open.",
)
@click.option(
    "--max-connections",
    envvar="PICTOGRAPH_MAX_CONNECTIONS",
    type=int,
    default=_DEFAULTS.max_connections,
    show_default=True,
    help="Open connections per worker; beyond it requests get 503 and new connections close.",
)
@click.option(
    "--gc-interval",
    envvar="PICTOGRAPH_GC_INTERVAL",
    type=float,
    default=3600.0,
    show_default=True,
    help="Sweep for crash litter at start and every this many seconds (0: never).",
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
    max_upload_mb: int,
    signed_url_ttl: int,
    max_image_pixels: int,
    decode_memory_mb: int,
    max_header_kb: int,
    header_timeout: float,
    body_timeout: float,
    keep_alive: int,
    max_connections: int,
    gc_interval: float,
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
        public_base_url=public_url or bound_url(host, port),
        max_upload_bytes=max_upload_mb * 1024 * 1024,
        signed_url_ttl_seconds=signed_url_ttl,
        max_image_pixels=max_image_pixels,
        decode_memory_bytes=decode_memory_mb * 1024 * 1024,
        max_header_bytes=max_header_kb * 1024,
        header_timeout_seconds=header_timeout,
        body_timeout_seconds=body_timeout,
        keep_alive_seconds=keep_alive,
        max_connections=max_connections,
        gc_interval_seconds=gc_interval,
    )
    # Worker processes rebuild the same settings from this one serialised copy.
    os.environ[SETTINGS_ENV] = json.dumps(settings.to_json())
    shown = settings.public_base_url
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
        # Our protocol adds header size/time and body time limits to uvicorn's httptools one.
        http="pictograph.server.connections:GuardedHttpProtocol",
        timeout_keep_alive=keep_alive,
        limit_concurrency=max_connections,
    )


def bound_url(host: str, port: int) -> str:
    """The base of the URLs we hand out when no --public-url is given: the address we bind to
    (this machine's name when binding every interface), never a client's ``Host`` header."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 (compared, not bound)
        host = socket.gethostname()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


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

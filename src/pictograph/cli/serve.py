"""``pictograph serve`` and ``pictograph keys``: run the server, manage its API keys."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from types import FrameType

import click

from pictograph.cli.client_options import Connection, pass_connection
from pictograph.cli.server_options import opened_store, settings_for, store_options
from pictograph.server.settings import DEFAULT_RATE_LIMIT, SETTINGS_ENV, ServerSettings

_DEFAULTS = ServerSettings(home=Path(), database_url="", storage_url="")


@click.command()
@click.option("--host", envvar="PICTOGRAPH_HOST", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    envvar="PICTOGRAPH_PORT",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="0: a free port, chosen at start and printed with the URL.",
)
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
    help="Sweep for crash litter at start and every this many seconds (0: never); replicas on "
    "one PostgreSQL database take turns.",
)
@click.option(
    "--gc-grace",
    envvar="PICTOGRAPH_GC_GRACE",
    type=float,
    default=_DEFAULTS.gc_grace_seconds,
    show_default=True,
    help="Seconds a blob or temporary file must be untouched before a sweep may remove it.",
)
@click.option(
    "--audit-retention-days",
    envvar="PICTOGRAPH_AUDIT_RETENTION_DAYS",
    type=click.FloatRange(min=0),
    default=_DEFAULTS.audit_retention_days,
    show_default=True,
    help="Days the audit trail keeps an entry; sweeps remove older ones.",
)
@click.option(
    "--trash-retention-days",
    envvar="PICTOGRAPH_TRASH_RETENTION_DAYS",
    type=click.FloatRange(min=0),
    default=_DEFAULTS.trash_retention_days,
    show_default=True,
    help="Days deleted datasets and images stay in the trash, restorable; the sweep removes "
    "them after (delete with permanent=true to skip the trash).",
)
@pass_connection
def serve(
    connection: Connection,
    host: str,
    port: int,
    workers: int,
    database_url: str | None,
    storage_url: str | None,
    redis_url: str | None,
    rate_limit: float,
    rate_burst: int,
    public_url: str | None,
    db_pool_size: int | None,
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
    gc_grace: float,
    audit_retention_days: float,
    trash_retention_days: float,
) -> None:
    """Serve the Pictograph developer API (and the gallery) over HTTP.

    It serves the store in --home: the datasets embedded commands made there are the built-in
    organisation's, which keys made without --org open.

    \b
    Example:
      pictograph serve --port 8000
    """
    import uvicorn

    from pictograph.server.store.home_lock import home_held

    # Refused (exit 5) before anything is bound or announced when another serve or gc holds it.
    with home_held(settings_for(connection.home, database_url, storage_url), "serve"):
        listener = listen_on(host, port)
        port = listener.getsockname()[1]
        settings = settings_for(
            connection.home,
            database_url,
            storage_url,
            require_api_key=True,
            redis_url=redis_url,
            rate_limit_per_second=rate_limit,
            rate_limit_burst=rate_burst,
            public_base_url=public_url or bound_url(host, port),
            max_upload_bytes=max_upload_mb * 1024 * 1024,
            signed_url_ttl_seconds=signed_url_ttl,
            database_pool_size=db_pool_size,
            max_image_pixels=max_image_pixels,
            decode_memory_bytes=decode_memory_mb * 1024 * 1024,
            max_header_bytes=max_header_kb * 1024,
            header_timeout_seconds=header_timeout,
            body_timeout_seconds=body_timeout,
            keep_alive_seconds=keep_alive,
            max_connections=max_connections,
            gc_interval_seconds=gc_interval,
            gc_grace_seconds=gc_grace,
            audit_retention_days=audit_retention_days,
            trash_retention_days=trash_retention_days,
        )
        _check_schema(settings.database_url)
        # Worker processes rebuild the same settings from this one serialised copy.
        os.environ[SETTINGS_ENV] = json.dumps(settings.to_json())
        shown = settings.public_base_url
        click.echo(
            f"Pictograph serving {settings.database_url.split('@')[-1]} on {shown}", err=True
        )
        show_organizations(settings)
        signal.signal(signal.SIGTERM, _exit_cleanly)
        config = uvicorn.Config(
            "pictograph.cli.serve:app_from_environment",
            factory=True,
            workers=workers,
            log_level="warning",
            timeout_graceful_shutdown=30,
            # Our protocol adds header size/time and body time limits to uvicorn's httptools one.
            http="pictograph.server.connections:GuardedHttpProtocol",
            timeout_keep_alive=keep_alive,
            limit_concurrency=max_connections,
        )
        server = uvicorn.Server(config)
        # uvicorn serves the socket we bound above, so no other process can take the port between
        # the URL we announced and the first request (uvicorn.run would bind it again).
        try:
            if workers > 1:
                from uvicorn.supervisors import Multiprocess

                Multiprocess(config, sockets=[listener]).run()
            else:
                server.run(sockets=[listener])
        except KeyboardInterrupt:  # Ctrl-C ends serving as SIGTERM does: status 0
            pass
        if workers == 1 and not server.started:
            sys.exit(1)


def _check_schema(database_url: str) -> None:
    """Refuse to start on a database an older version left; see ``pictograph migrate``."""
    from pictograph.server.store.database import check_schema

    check_schema(database_url)


#: uvicorn's own default backlog.
LISTEN_BACKLOG = 2048


def listen_on(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (``--port 0``: a free port the system picks), bound as
    uvicorn binds (``SO_REUSEADDR``), listening, and kept for uvicorn to serve; ``OSError``
    naming the port when something listens there already.
    """
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise OSError(
            f"cannot listen on {host}:{port} ({error.strerror or error}): "
            "stop what runs there or pass --port N",
        ) from None
    # Listening now (uvicorn only calls listen() once the app has started) means that the URL
    # we announce accepts connections at once: the kernel queues them until the app answers.
    listener.listen(LISTEN_BACKLOG)
    listener.set_inheritable(True)  # the worker processes of --workers N serve it too
    return listener


def show_organizations(settings: ServerSettings) -> None:
    """One line per organisation of the store, with its dataset count."""
    from pictograph.server.service.context import AppContext
    from pictograph.server.service.organizations import dataset_counts

    store = AppContext.open(settings)
    try:
        counts = dataset_counts(store)
    finally:
        store.close()
    for name, count in counts:
        click.echo(f"  organisation {name}: {count} dataset{'' if count == 1 else 's'}", err=True)


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

    _log_to_stderr()
    return create_app(ServerSettings.from_json(json.loads(os.environ[SETTINGS_ENV])))


def _log_to_stderr() -> None:
    """Our own INFO lines (a gc round's removals or skip, an export put back in the queue) go to
    standard error next to uvicorn's; without a handler Python would drop them."""
    logger = logging.getLogger("pictograph")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


@click.group()
def keys() -> None:
    """Create, list and revoke API keys (shown once; only a hash is stored).

    \b
    Example:
      pictograph keys create
    """


@keys.command("create")
@click.option(
    "--org",
    "organization",
    default=None,
    help="A separate organisation (created if needed). [default: the store's own, local]",
)
@click.option("--name", default="default", show_default=True, help="A label for the key.")
@store_options
@pass_connection
def create_key(
    connection: Connection,
    organization: str | None,
    name: str,
    database_url: str | None,
    storage_url: str | None,
) -> None:
    """Create a key; the key itself is the last line printed.

    Without --org the key opens the store's own organisation: the datasets uploaded with
    embedded commands on the same --home. With --org NAME it opens NAME's, isolated from all
    others.

    \b
    Example:
      pictograph keys create --name laptop
    """
    from pictograph.server.service import keys as service
    from pictograph.server.service.organizations import LOCAL

    organization = organization or LOCAL
    with opened_store(connection.home, database_url, storage_url) as store:
        info, raw_key = service.create_key(store, organization, name)
    click.echo(f"Created key {info.id} ({info.prefix}...) for organisation {organization!r}.")
    click.echo("Store it now: it is shown only once.")
    click.echo(raw_key)


@keys.command("list")
@click.option("--org", "organization", default=None, help="Only this organisation's keys.")
@store_options
@pass_connection
def list_keys(
    connection: Connection,
    organization: str | None,
    database_url: str | None,
    storage_url: str | None,
) -> None:
    """List keys (id, organisation, name, prefix, created, state).

    \b
    Example:
      pictograph keys list --org acme
    """
    from pictograph.cli.output import print_table
    from pictograph.server.service import keys as service

    with opened_store(connection.home, database_url, storage_url) as store:
        rows = service.list_keys(store, organization)
    if not rows:
        click.echo("No keys. Make one with: pictograph keys create")
        return
    print_table(
        ["id", "organisation", "name", "prefix", "created", "state"],
        [
            (
                row.id,
                row.organization,
                row.name,
                f"{row.prefix}...",
                f"{row.created_at:%Y-%m-%d %H:%M}",
                f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active",
            )
            for row in rows
        ],
    )


@keys.command("revoke")
@click.argument("key_id")
@store_options
@pass_connection
def revoke_key(
    connection: Connection, key_id: str, database_url: str | None, storage_url: str | None
) -> None:
    """Revoke the key with id KEY_ID: requests with it get 401 from then on.

    \b
    Example:
      pictograph keys revoke 0b6f3c1e-...   (the id from pictograph keys list)
    """
    from pictograph.server.service import keys as service

    with opened_store(connection.home, database_url, storage_url) as store:
        service.revoke_key(store, key_id)
    click.echo(f"Revoked key {key_id}.")

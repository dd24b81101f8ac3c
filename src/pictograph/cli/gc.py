"""``pictograph gc``: sweep a store for what crashes left behind (the sweep the server runs)."""

from __future__ import annotations

from datetime import timedelta

import click

from pictograph.cli.client_options import Connection, pass_connection
from pictograph.cli.server_options import settings_for, store_options
from pictograph.server.settings import ServerSettings


@click.command()
@store_options
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
@click.option(
    "--grace",
    type=float,
    default=900.0,
    show_default=True,
    help="Seconds litter is kept: only files untouched this long are looked at. Blobs being "
    "written are never removed, whatever the grace (0 is safe beside a running server).",
)
@click.option(
    "--signed-url-ttl",
    envvar="PICTOGRAPH_SIGNED_URL_TTL",
    default=3600,
    show_default=True,
    type=int,
    help="The server's URL lifetime: pending uploads older than this are dropped.",
)
@click.option(
    "--trash-retention-days",
    envvar="PICTOGRAPH_TRASH_RETENTION_DAYS",
    default=ServerSettings.trash_retention_days,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Datasets and images in the trash for longer than this are removed with their bytes.",
)
@pass_connection
def gc(
    connection: Connection,
    database_url: str | None,
    storage_url: str | None,
    dry_run: bool,
    grace: float,
    signed_url_ttl: int,
    trash_retention_days: float,
) -> None:
    """Remove temporary files, blobs no image refers to, pending uploads older than their URL's
    lifetime, expired idempotency records, and what has been in the trash for longer than its
    retention. Blobs of committed images are never touched otherwise.

    \b
    Example:
      pictograph gc --dry-run
    """
    from pictograph.server.service import gc as service
    from pictograph.server.service.context import AppContext
    from pictograph.server.store.home_lock import home_held

    settings = settings_for(
        connection.home,
        database_url,
        storage_url,
        signed_url_ttl_seconds=signed_url_ttl,
        trash_retention_days=trash_retention_days,
    )
    with home_held(settings, "gc"):
        store = AppContext.open(settings)
        try:
            report = service.sweep(store, dry_run=dry_run, grace=timedelta(seconds=grace))
        finally:
            store.close()
    verb = "would remove" if dry_run else "removed"
    for kind, names in (
        ("temporary file", report.temporary_files),
        ("orphan blob", report.orphan_blobs),
        ("expired upload", report.expired_uploads),
        ("expired refusal", report.expired_refusals),
        ("trashed dataset", report.trashed_datasets),
        ("trashed image", report.trashed_images),
    ):
        for name in names:
            click.echo(f"{kind}\t{name}")
    click.echo(
        f"gc {verb} {len(report.temporary_files)} temporary files, "
        f"{len(report.orphan_blobs)} orphan blobs, {len(report.expired_uploads)} expired "
        f"uploads, {len(report.expired_refusals)} expired upload refusals, "
        f"{report.idempotency_records} expired idempotency records, "
        f"{report.audit_entries} audit entries past their retention, "
        f"{len(report.trashed_datasets)} datasets and {len(report.trashed_images)} images "
        f"from the trash ({report.trash_blobs} blobs)",
        err=True,
    )

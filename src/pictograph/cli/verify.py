"""``pictograph verify``: prove nothing was lost. A folder against a dataset (by SHA-256, through
the SDK), or every stored blob against its recorded SHA-256 (``--store``, on the store itself)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pictograph.cli.client_options import Connection, pass_connection
from pictograph.cli.exit_codes import INVALID, SOME_FILES_FAILED
from pictograph.cli.server_options import opened_store, store_options


@click.command(short_help="Compare a folder with a dataset, or re-hash the store.")
@click.argument("folder", type=click.Path(path_type=Path), required=False)
@click.option("--dataset", "-d", "dataset_name", help="The dataset FOLDER was uploaded to.")
@click.option(
    "--by-class", "layout", flag_value="by-class", default=True, help="As upload. [default]"
)
@click.option("--flat", "layout", flag_value="flat", help="As upload --flat.")
@click.option("--preserve-structure", "layout", flag_value="preserve", help="As upload.")
@click.option(
    "--store", "whole_store", is_flag=True, help="Re-hash and check every stored image instead."
)
@store_options
@pass_connection
def verify(
    connection: Connection,
    folder: Path | None,
    dataset_name: str | None,
    layout: str,
    whole_store: bool,
    database_url: str | None,
    storage_url: str | None,
) -> None:
    """Compare FOLDER with --dataset by SHA-256, listing missing, different and extra files;
    or, with --store, re-hash every image's stored bytes against the SHA-256 recorded for it and
    check them as an upload is (a truncated image is listed as damaged), and list the uploads
    the background check quarantined (--home, --database-url and --storage-url name the store,
    as for serve).

    Exit status 0 only when everything matches, 10 otherwise (with --store, also when the
    metadata database cannot be read: damaged, or not a database).

    \b
    Example:
      pictograph verify ./photos --dataset demo
    """
    if whole_store:
        _verify_store(connection.home, database_url, storage_url)
        return
    if folder is None or dataset_name is None:
        click.echo("error: give FOLDER and --dataset NAME, or --store", err=True)
        sys.exit(INVALID)
    from pictograph.workflows.verify import compare_folder

    with connection.client() as client:
        result = compare_folder(
            client,
            folder,
            dataset_name,
            organize_by_class=layout == "by-class",
            preserve_structure=layout == "preserve",
        )
    for kind, names in (
        ("missing", result.missing),
        ("different", result.different),
        ("extra", result.extra),
        ("unreadable", result.unreadable),
    ):
        for name in names:
            click.echo(f"{kind}\t{name}")
    click.echo(
        f"{result.matched} matched, {len(result.missing)} missing, {len(result.different)} "
        f"different, {len(result.extra)} extra, {len(result.unreadable)} unreadable",
        err=True,
    )
    if not result.ok:
        sys.exit(SOME_FILES_FAILED)


def _verify_store(home: Path | None, database_url: str | None, storage_url: str | None) -> None:
    import sqlalchemy as sa

    from pictograph.server.service.integrity import check_store
    from pictograph.server.store.database import UnusableDatabaseError

    try:
        with opened_store(home, database_url, storage_url) as store:
            result = check_store(store)
    except (UnusableDatabaseError, sa.exc.DBAPIError) as error:
        # A damaged database is a store that fails verification, not a crash.
        reason = error.orig if isinstance(error, sa.exc.DBAPIError) else error
        click.echo(f"error: the store cannot be verified: {reason}", err=True)
        sys.exit(SOME_FILES_FAILED)
    for name in result.missing:
        click.echo(f"missing\t{name}")
    for name in result.mismatched:
        click.echo(f"mismatched\t{name}")
    for name in result.damaged:
        click.echo(f"damaged\t{name}")
    for name in result.quarantined:
        click.echo(f"quarantined\t{name}")
    click.echo(
        f"{result.checked} images checked, {len(result.missing)} missing, "
        f"{len(result.mismatched)} with other bytes than recorded, "
        f"{len(result.damaged)} not a whole image; "
        f"{len(result.quarantined)} uploads quarantined (out of their datasets)",
        err=True,
    )
    if not result.ok:
        sys.exit(SOME_FILES_FAILED)

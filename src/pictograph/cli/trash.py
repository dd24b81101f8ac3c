"""``pictograph trash list|restore|purge``: what was deleted, through ``client.trash``."""

from __future__ import annotations

import sys

import click

from pictograph.cli.client_options import Connection, connection_options, pass_connection
from pictograph.cli.output import limit_note, print_json, print_table

_KIND = click.Choice(["dataset", "image"])


@click.group()
def trash() -> None:
    """List, restore and purge deleted datasets and images (kept 30 days unless the server
    says otherwise; gc removes them after).

    \b
    Example:
      pictograph trash list
    """


@trash.command("list")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--all", "every", is_flag=True, help="Everything in the trash, however much.")
@click.option("--json", "as_json", is_flag=True, help="Print the trash as JSON.")
@connection_options
@pass_connection
def list_trash(connection: Connection, limit: int, every: bool, as_json: bool) -> None:
    """List the trash, most recently deleted first.

    \b
    Example:
      pictograph trash list --json
    """
    from pictograph.models import dump

    with connection.client() as client:
        pager = client.trash.iter(
            page_size=1000 if every else min(limit, 1000), max_total=None if every else limit
        )
        found = pager.all()
    if as_json:
        print_json([dump(item) for item in found])
        return
    if not found:
        click.echo("The trash is empty.")
        return
    rows = [
        (
            item.kind,
            item.id,
            item.name,
            item.dataset_name if item.kind == "image" else "",
            "" if item.image_count is None else f"{item.image_count:,}",
            item.deleted_at.strftime("%Y-%m-%d %H:%M"),
            item.expires_at.strftime("%Y-%m-%d %H:%M"),
        )
        for item in found
    ]
    columns = ("kind", "id", "name", "dataset", "#images", "deleted (UTC)", "expires (UTC)")
    print_table(columns, rows)
    note = limit_note(len(found), pager.total)
    if note:
        click.echo(note, err=True)


@trash.command("restore")
@click.argument("kind", type=_KIND)
@click.argument("item_id", metavar="ID")
@click.option("--name", "new_name", default=None, help="A new name (datasets whose name is taken).")
@connection_options
@pass_connection
def restore(connection: Connection, kind: str, item_id: str, new_name: str | None) -> None:
    """Bring a dataset or an image back from the trash, bytes and labels intact; exit 5 when
    its name (or path) is taken, 4 when the trash has no such item.

    \b
    Example:
      pictograph trash restore dataset 3f2c... --name demo-restored
    """
    if new_name is not None and kind != "dataset":
        raise click.UsageError("--name is for datasets only")
    with connection.client() as client:
        if kind == "dataset":
            dataset = client.trash.restore_dataset(item_id, new_name=new_name)
            click.echo(f"Restored dataset {dataset.name} ({dataset.image_count:,} images).")
        else:
            image = client.trash.restore_image(item_id)
            path = f"{(image.directory_path or '/').rstrip('/')}/{image.filename}"
            click.echo(f"Restored image {path}.")


@trash.command("purge")
@click.argument("kind", type=_KIND)
@click.argument("item_id", metavar="ID")
@click.option("--yes", "-y", is_flag=True, help="Purge without asking (required off a terminal).")
@connection_options
@pass_connection
def purge(connection: Connection, kind: str, item_id: str, yes: bool) -> None:
    """Remove a dataset or an image in the trash now, with its bytes, for good.

    \b
    Example:
      pictograph trash purge dataset 3f2c... --yes
    """
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError(f"purging {kind} {item_id} removes it for good: pass --yes")
        click.confirm(f"Remove {kind} {item_id} and its bytes for good?", abort=True)
    with connection.client() as client:
        if kind == "dataset":
            summary = client.trash.purge_dataset(item_id)
            images = summary.get("images_deleted")
            extra = f" ({images} images)" if images is not None else ""
            click.echo(f"Purged dataset {summary.get('name', item_id)}{extra}.")
        else:
            client.trash.purge_image(item_id)
            click.echo(f"Purged image {item_id}.")

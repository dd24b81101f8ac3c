"""``pictograph datasets list|show|create|delete``: SDK calls through ``client.datasets``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from pictograph.cli.client_options import (
    Connection,
    connection_options,
    dataset_name,
    pass_connection,
)
from pictograph.cli.output import human_bytes, limit_note, print_json, print_table

if TYPE_CHECKING:
    from pictograph.models import Dataset, Directory, DirectoryStats


@click.group()
def datasets() -> None:
    """List, show, create and delete datasets.

    \b
    Example:
      pictograph datasets list
    """


@datasets.command("list")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--all", "every", is_flag=True, help="Every dataset, however many.")
@click.option("--archived", is_flag=True, help="List the archived datasets instead.")
@click.option("--json", "as_json", is_flag=True, help="Print the datasets as JSON.")
@connection_options
@pass_connection
def list_datasets(
    connection: Connection, limit: int, every: bool, archived: bool, as_json: bool
) -> None:
    """List datasets, newest first.

    \b
    Example:
      pictograph datasets list --limit 20
    """
    from pictograph.models import dump

    with connection.client() as client:
        pager = client.datasets.iter(
            page_size=1000 if every else min(limit, 1000),
            max_total=None if every else limit,
            archived=archived,
        )
        found = pager.all()
    if as_json:
        print_json([dump(dataset) for dataset in found])
        return
    if not found:
        click.echo("No datasets.")
        return
    print_table(
        ["name", "#images", "#size", "created", "description"],
        [
            (
                d.name,
                d.image_count,
                human_bytes(d.total_size),
                f"{d.created_at:%Y-%m-%d %H:%M}",
                d.description or "",
            )
            for d in found
        ],
    )
    note = limit_note(len(found), pager.total)
    if note:
        click.echo(note)


@datasets.command("show")
@click.argument("name", callback=dataset_name)
@click.option("--json", "as_json", is_flag=True, help="Print the dataset and folders as JSON.")
@connection_options
@pass_connection
def show_dataset(connection: Connection, name: str, as_json: bool) -> None:
    """Show a dataset and its folders; exit 4 when there is no such dataset.

    \b
    Example:
      pictograph datasets show demo
    """
    from pictograph.models import dump

    with connection.client() as client:
        dataset = client.datasets.get(name)
        folders = client.directories.list(name)
        root = client.directories.stats(name, "/", include_subdirectories=False)
    if as_json:
        print_json(dump(dataset) | {"folders": [dump(folder) for folder in folders]})
        return
    _show(dataset, folders, root)


def _show(dataset: Dataset, folders: list[Directory], root: DirectoryStats) -> None:
    click.echo(f"{dataset.name}  ({dataset.id})")
    if dataset.description:
        click.echo(f"  {dataset.description}")
    click.echo(
        f"  {dataset.image_count} images, {human_bytes(dataset.total_size)}, "
        f"created {dataset.created_at:%Y-%m-%d %H:%M}"
        + (", archived" if dataset.is_archived else "")
    )
    rows: list[tuple[object, ...]] = [("/ (root)", root.total_images, dataset.image_count)]
    rows += [(f.full_path, f.image_count, f.nested_image_count) for f in folders]
    print_table(["folder", "#images", "#with subfolders"], rows)


@datasets.command("create")
@click.argument("name", callback=dataset_name)
@click.option("--description", "-d", default=None, help="A line saying what the dataset holds.")
@click.option("--json", "as_json", is_flag=True, help="Print the new dataset as JSON.")
@connection_options
@pass_connection
def create_dataset(
    connection: Connection, name: str, description: str | None, as_json: bool
) -> None:
    """Create an empty dataset; exit 5 when the name is taken.

    \b
    Example:
      pictograph datasets create road-signs -d "Traffic signs, one folder per class"
    """
    from pictograph.models import dump

    with connection.client() as client:
        dataset = client.datasets.create(name, description=description)
    if as_json:
        print_json(dump(dataset))
    else:
        click.echo(f"Created dataset {dataset.name} ({dataset.id}).")


@datasets.command("delete")
@click.argument("name", callback=dataset_name)
@click.option("--yes", "-y", is_flag=True, help="Delete without asking (required off a terminal).")
@click.option("--permanent", is_flag=True, help="Remove it now, for good, not into the trash.")
@connection_options
@pass_connection
def delete_dataset(connection: Connection, name: str, yes: bool, permanent: bool) -> None:
    """Delete a dataset with all its images and folders: into the trash (restorable with
    `pictograph trash restore` until the server's retention passes), or for good.

    \b
    Example:
      pictograph datasets delete demo --yes
    """
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError(f"deleting {name!r} removes all its images: pass --yes")
        how = "for good" if permanent else "(into the trash)"
        click.confirm(f"Delete dataset {name!r} and all its images {how}?", abort=True)
    with connection.client() as client:
        summary = client.datasets.delete(name, permanent=permanent)
    deleted = summary.get("images_deleted")
    extra = f" ({deleted} images)" if deleted is not None else ""
    if summary.get("trashed"):
        until = summary.get("restorable_until", "")[:10]
        click.echo(f"Moved dataset {name}{extra} to the trash; restorable until {until}.")
    else:
        click.echo(f"Deleted dataset {name}{extra}.")

"""``pictograph datasets list|show|create|delete``: SDK calls through ``client.datasets``."""

from __future__ import annotations

import sys

import click

from pictograph.cli.client_options import Connection, pass_connection
from pictograph.cli.output import human_bytes, print_json, print_table
from pictograph.models import Dataset, Directory, dump


@click.group()
def datasets() -> None:
    """List, show, create and delete datasets."""


@datasets.command("list")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--archived", is_flag=True, help="List the archived datasets instead.")
@click.option("--json", "as_json", is_flag=True, help="Print the datasets as JSON.")
@pass_connection
def list_datasets(connection: Connection, limit: int, archived: bool, as_json: bool) -> None:
    """List datasets, newest first."""
    with connection.client() as client:
        found = client.datasets.iter(
            page_size=min(limit, 1000), max_total=limit, archived=archived
        ).all()
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


@datasets.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the dataset and folders as JSON.")
@pass_connection
def show_dataset(connection: Connection, name: str, as_json: bool) -> None:
    """Show a dataset and its folders; exit 4 when there is no such dataset."""
    with connection.client() as client:
        dataset = client.datasets.get(name)
        folders = client.directories.list(name)
    if as_json:
        print_json(dump(dataset) | {"folders": [dump(folder) for folder in folders]})
        return
    _show(dataset, folders)


def _show(dataset: Dataset, folders: list[Directory]) -> None:
    click.echo(f"{dataset.name}  ({dataset.id})")
    if dataset.description:
        click.echo(f"  {dataset.description}")
    click.echo(
        f"  {dataset.image_count} images, {human_bytes(dataset.total_size)}, "
        f"created {dataset.created_at:%Y-%m-%d %H:%M}"
        + (", archived" if dataset.is_archived else "")
    )
    if folders:
        print_table(
            ["folder", "#images", "#with subfolders"],
            [(f.full_path, f.image_count, f.nested_image_count) for f in folders],
        )


@datasets.command("create")
@click.argument("name")
@click.option("--description", "-d", default=None, help="A line saying what the dataset holds.")
@click.option("--json", "as_json", is_flag=True, help="Print the new dataset as JSON.")
@pass_connection
def create_dataset(
    connection: Connection, name: str, description: str | None, as_json: bool
) -> None:
    """Create an empty dataset; exit 5 when the name is taken."""
    with connection.client() as client:
        dataset = client.datasets.create(name, description=description)
    if as_json:
        print_json(dump(dataset))
    else:
        click.echo(f"Created dataset {dataset.name} ({dataset.id}).")


@datasets.command("delete")
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Delete without asking (required off a terminal).")
@pass_connection
def delete_dataset(connection: Connection, name: str, yes: bool) -> None:
    """Delete a dataset with all its images and folders, for good."""
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError(f"deleting {name!r} removes all its images: pass --yes")
        click.confirm(f"Delete dataset {name!r} and all its images for good?", abort=True)
    with connection.client() as client:
        summary = client.datasets.delete(name)
    deleted = summary.get("images_deleted")
    extra = f" ({deleted} images)" if deleted is not None else ""
    click.echo(f"Deleted dataset {name}{extra}.")

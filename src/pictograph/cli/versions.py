"""``pictograph versions create|list|show|delete``: frozen dataset versions (``client.versions``).

Export one with ``pictograph export DATASET --version NAME``.
"""

from __future__ import annotations

import sys

import click

from pictograph.cli.client_options import (
    Connection,
    connection_options,
    dataset_name,
    pass_connection,
)
from pictograph.cli.output import print_json, print_table


@click.group()
def versions() -> None:
    """Freeze a dataset's images, labels, classes and splits under a name (no bytes copied).

    \b
    Example:
      pictograph versions create road-signs v1
    """


@versions.command("create")
@click.argument("dataset", callback=dataset_name)
@click.argument("name")
@click.option("--description", "-d", default=None, help="What this version is for.")
@click.option("--json", "as_json", is_flag=True, help="Print the new version as JSON.")
@connection_options
@pass_connection
def create_version(
    connection: Connection, dataset: str, name: str, description: str | None, as_json: bool
) -> None:
    """Freeze DATASET as version NAME; exit 5 when the name is taken.

    \b
    Example:
      pictograph versions create road-signs v1 -d "trained yolo11n on this"
    """
    with connection.client() as client:
        version = client.versions.create(dataset, name, description=description)
    if as_json:
        print_json(version.model_dump(mode="json"))
        return
    click.echo(
        f"Created version {version.name} of {version.dataset_name}: "
        f"{version.image_count} images, {version.annotation_count} annotations."
    )


@versions.command("list")
@click.argument("dataset", callback=dataset_name)
@click.option("--json", "as_json", is_flag=True, help="Print the versions as JSON.")
@connection_options
@pass_connection
def list_versions(connection: Connection, dataset: str, as_json: bool) -> None:
    """DATASET's versions, newest first.

    \b
    Example:
      pictograph versions list road-signs
    """
    with connection.client() as client:
        found = client.versions.list(dataset)
    if as_json:
        print_json([v.model_dump(mode="json") for v in found])
        return
    if not found:
        click.echo(f"Dataset {dataset} has no versions.")
        return
    print_table(
        ["name", "#images", "#annotations", "created", "description"],
        [(v.name, v.image_count, v.annotation_count, f"{v.created_at:%Y-%m-%d %H:%M}",
          v.description or "") for v in found],
    )  # fmt: skip


@versions.command("show")
@click.argument("dataset", callback=dataset_name)
@click.argument("name")
@connection_options
@pass_connection
def show_version(connection: Connection, dataset: str, name: str) -> None:
    """One version as JSON (classes, counts, images per split).

    \b
    Example:
      pictograph versions show road-signs v1
    """
    with connection.client() as client:
        print_json(client.versions.get(dataset, name).model_dump(mode="json"))


@versions.command("delete")
@click.argument("dataset", callback=dataset_name)
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Delete without asking (required off a terminal).")
@connection_options
@pass_connection
def delete_version(connection: Connection, dataset: str, name: str, yes: bool) -> None:
    """Delete version NAME of DATASET and its exports (the live dataset stays).

    \b
    Example:
      pictograph versions delete road-signs v1 --yes
    """
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError(f"deleting version {name!r} removes its exports: pass --yes")
        click.confirm(f"Delete version {name!r} of {dataset!r}?", abort=True)
    with connection.client() as client:
        client.versions.delete(dataset, name)
    click.echo(f"Deleted version {name} of {dataset}.")

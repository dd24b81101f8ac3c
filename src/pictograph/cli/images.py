"""``pictograph images list|download|assign-splits|split``: a dataset's images, through
``client.images``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pictograph.cli.client_options import (
    Connection,
    connection_options,
    dataset_name,
    pass_connection,
)
from pictograph.cli.output import (
    human_bytes,
    limit_note,
    print_json,
    print_table,
    without_embedded_urls,
)
from pictograph.cli.splits import assign_splits, set_split
from pictograph.protocol import dataset_path

if TYPE_CHECKING:
    from pictograph.client import Client
    from pictograph.models import Image


@click.group()
def images() -> None:
    """List a dataset's images and download one of them.

    \b
    Example:
      pictograph images list demo --folder /stop
    """


@images.command("list")
@click.argument("dataset", callback=dataset_name)
@click.option("--folder", "-f", default=None, help="Only this folder (e.g. /stop), exactly.")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--all", "every", is_flag=True, help="Every image, however many.")
@click.option("--json", "as_json", is_flag=True, help="Print the images as JSON.")
@connection_options
@pass_connection
def list_images(
    connection: Connection,
    dataset: str,
    folder: str | None,
    limit: int,
    every: bool,
    as_json: bool,
) -> None:
    """List a dataset's images, newest first; exit 4 for an unknown dataset or folder.

    \b
    Example:
      pictograph images list demo --folder /stop --limit 20
    """
    from pictograph.config import EMBEDDED_BASE_URL
    from pictograph.models import dump

    folder = normalized_folder(folder)
    with connection.client() as client:
        pager = client.images.iter(
            dataset,
            page_size=1000 if every else min(limit, 1000),
            max_total=None if every else limit,
            directory_path=folder,
        )
        found = pager.all()
        if not found and folder not in (None, "/"):
            # An empty page does not say whether the folder exists; its stats do (404 if not).
            client.directories.stats(dataset, folder, include_subdirectories=False)
    if as_json:
        print_json(without_embedded_urls([dump(image) for image in found], EMBEDDED_BASE_URL))
        return
    if not found:
        click.echo("No images.")
        return
    print_table(["path", "#size", "#width", "#height", "status", "id"], map(_row, found))
    note = limit_note(len(found), pager.total)
    if note:
        click.echo(note)


def _row(image: Image) -> tuple[object, ...]:
    return (
        dataset_path(image.directory_path, image.filename),
        human_bytes(image.file_size),
        image.width or "",
        image.height or "",
        image.status,
        image.id,
    )


def normalized_folder(folder: str | None) -> str | None:
    """``stop/`` as ``/stop``; ``None`` stays ``None`` (every folder)."""
    if folder is None:
        return None
    return "/" + folder.strip().strip("/")


@images.command("download")
@click.argument("dataset", callback=dataset_name)
@click.argument("image")
@click.argument("output", type=click.Path())
@connection_options
@pass_connection
def download_image(connection: Connection, dataset: str, image: str, output: str) -> None:
    """Write IMAGE's bytes to OUTPUT (a file, or an existing folder to write into).

    IMAGE is ``folder/filename``, a filename (found in whichever folder holds it) or an id.
    OUTPUT ending in / must be an existing folder.

    \b
    Example:
      pictograph images download demo stop/001.jpg ./001.jpg
    """
    target = _target(output)
    with connection.client() as client:
        source = _image_path(client, dataset, image)
        target = target / Path(source).name if target.is_dir() else target
        written = client.images.download(dataset, source, target)
    click.echo(f"Wrote {written} ({human_bytes(written.stat().st_size)}).")


def _target(output: str) -> Path:
    """OUTPUT as a path; raises ``FileNotFoundError`` when it ends in ``/`` but is no folder."""
    path = Path(output).expanduser()
    if output.endswith(("/", os.sep)) and not path.is_dir():
        raise FileNotFoundError(f"folder {output!r} does not exist; create it first")
    return path


def _image_path(client: Client, dataset: str, image: str) -> str:
    """``folder/filename`` (or the id) to download: a bare filename is looked up by name."""
    from pictograph.errors import NotFoundError

    image = image.strip().lstrip("/")
    if "/" in image:
        return image
    try:
        found = client.images.get(dataset, image)
    except NotFoundError:
        return image  # an id, or a root filename the route will answer 404 for
    return dataset_path(found.directory_path, found.filename).lstrip("/")


images.add_command(assign_splits)
images.add_command(set_split)

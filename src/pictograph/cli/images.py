"""``pictograph images list|download``: a dataset's images, through ``client.images``."""

from __future__ import annotations

from pathlib import Path

import click

from pictograph.cli.client_options import Connection, pass_connection
from pictograph.cli.output import dataset_path, human_bytes, print_json, print_table
from pictograph.client import Client
from pictograph.errors import NotFoundError
from pictograph.models import Image, dump


@click.group()
def images() -> None:
    """List a dataset's images and download one of them."""


@images.command("list")
@click.argument("dataset")
@click.option("--folder", "-f", default=None, help="Only this folder (e.g. /stop), exactly.")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the images as JSON.")
@pass_connection
def list_images(
    connection: Connection, dataset: str, folder: str | None, limit: int, as_json: bool
) -> None:
    """List a dataset's images, newest first; exit 4 for an unknown dataset or folder."""
    folder = normalized_folder(folder)
    with connection.client() as client:
        found = client.images.iter(
            dataset, page_size=min(limit, 1000), max_total=limit, directory_path=folder
        ).all()
        if not found and folder not in (None, "/"):
            # An empty page does not say whether the folder exists; its stats do (404 if not).
            client.directories.stats(dataset, folder, include_subdirectories=False)
    if as_json:
        print_json([dump(image) for image in found])
    elif not found:
        click.echo("No images.")
    else:
        print_table(["path", "#size", "#width", "#height", "status", "id"], map(_row, found))


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
@click.argument("dataset")
@click.argument("image")
@click.argument("output", type=click.Path(path_type=Path))
@pass_connection
def download_image(connection: Connection, dataset: str, image: str, output: Path) -> None:
    """Write IMAGE's bytes to OUTPUT (a file, or an existing folder to write into).

    IMAGE is ``folder/filename``, a filename (found in whichever folder holds it) or an id.
    """
    with connection.client() as client:
        source = _image_path(client, dataset, image)
        target = output / Path(source).name if output.is_dir() else output
        written = client.images.download(dataset, source, target)
    click.echo(f"Wrote {written} ({human_bytes(written.stat().st_size)}).")


def _image_path(client: Client, dataset: str, image: str) -> str:
    """``folder/filename`` (or the id) to download: a bare filename is looked up by name."""
    image = image.strip().lstrip("/")
    if "/" in image:
        return image
    try:
        found = client.images.get(dataset, image)
    except NotFoundError:
        return image  # an id, or a root filename the route will answer 404 for
    return dataset_path(found.directory_path, found.filename).lstrip("/")

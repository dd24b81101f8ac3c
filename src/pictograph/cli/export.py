"""``pictograph export DATASET --format F -o FILE``: build an export, wait for it, fetch it."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import click

from pictograph.cli.client_options import (
    Connection,
    connection_options,
    dataset_name,
    pass_connection,
)
from pictograph.cli.leaks import warn_of_leaks
from pictograph.cli.output import human_bytes, print_json

FORMATS = ("pictograph", "coco", "yolo", "imagefolder", "pascal_voc", "labelme", "cvat", "csv")


@click.command("export")
@click.argument("dataset", callback=dataset_name)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="coco", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Where to write the ZIP archive.")  # fmt: skip
@click.option("--name", help="Name of the export in the dataset. [default: FORMAT-timestamp]")
@click.option("--images/--no-images", "include_images", default=True, show_default=True,
              help="Put the image files in the archive too.")  # fmt: skip
@click.option("--by-split", is_flag=True, help="train/, valid/ and test/ folders by image split.")
@click.option("--leak-check/--no-leak-check", default=True, show_default=True,
              help="With --by-split, first list near-duplicates in different splits.")  # fmt: skip
@click.option("--class", "classes", multiple=True, help="Keep only this class (repeatable).")
@click.option("--status", type=click.Choice(["new", "annotate", "review", "complete"]),
              help="Only images with this status.")  # fmt: skip
@click.option("--version", "version", default=None,
              help="Export this version of the dataset (pictograph versions create).")  # fmt: skip
@click.option("--timeout", type=float, default=3600.0, show_default=True, help="Seconds to wait.")
@click.option("--json", "as_json", is_flag=True, help="Print the finished export as JSON.")
@connection_options
@pass_connection
def export(
    connection: Connection,
    dataset: str,
    fmt: str,
    output: Path,
    name: str | None,
    include_images: bool,
    by_split: bool,
    leak_check: bool,
    classes: tuple[str, ...],
    status: str | None,
    version: str | None,
    timeout: float,
    as_json: bool,
) -> None:
    """Export DATASET's labels (and images) in a training format and download the ZIP.

    Exit 6 for a bad class, 4 for an unknown dataset, 5 for a taken name.

    \b
    Example:
      pictograph export road-signs --format yolo -o road-signs-yolo.zip
    """
    name = name or f"{fmt}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    with connection.client() as client:
        if by_split and leak_check and version is None:
            warn_of_leaks(client, dataset, 0.95)
        client.exports.create(
            dataset, name, format=fmt, include_images=include_images,
            class_filter=list(classes) or None, status_filter=status,
            organize_by_split=by_split, version=version, wait=False,
        )  # fmt: skip
        deadline, shown = time.monotonic() + timeout, ""
        while True:
            current = client.exports.get(dataset, name)
            if current.status != shown and not as_json:
                click.echo(f"export {name}: {current.status}", err=True)
                shown = current.status
            if current.status in ("completed", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        done = client.exports.wait_for_completion(dataset, name, poll_interval=0.5, timeout=1)
        client.exports.download(dataset, name, output)
    if as_json:
        print_json({**done.model_dump(mode="json"), "output": str(output)})
        return
    click.echo(
        f"{output}: {done.image_count} images, {done.annotation_count} annotations, "
        f"{human_bytes(done.file_size or 0)}"
    )

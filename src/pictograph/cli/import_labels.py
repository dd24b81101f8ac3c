"""``pictograph import DATASET coco|yolo PATH``: put a COCO file's or YOLO folder's labels onto
the images already in a dataset."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pictograph.cli.client_options import (
    Connection,
    connection_options,
    dataset_name,
    pass_connection,
)
from pictograph.cli.exit_codes import SOME_FILES_FAILED
from pictograph.cli.output import print_json


@click.command("import")
@click.argument("dataset", callback=dataset_name)
@click.argument("kind", type=click.Choice(["coco", "yolo"]))
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@connection_options
@pass_connection
def import_labels(
    connection: Connection, dataset: str, kind: str, path: Path, as_json: bool
) -> None:
    """Save labels onto DATASET's images, matched by path, then filename, then stem.

    PATH is a COCO JSON file, or a YOLO folder (data.yaml or classes.txt plus labels/*.txt).
    Missing classes are added to the dataset. Each image's labels are replaced. The whole file
    is checked first: any bad entry is listed and nothing is saved (exit 6); images the server
    refuses are listed and the command exits 10.

    \b
    Example:
      pictograph import road-signs coco ./annotations/instances.json
    """
    with connection.client() as client:
        if kind == "coco":
            plan = client.annotations.import_coco(dataset, path)
        else:
            plan = client.annotations.import_yolo(dataset, path)
    outcome = {
        "images": plan.saved_images,
        "annotations": plan.saved_annotations,
        "unmatched": plan.unmatched,
        "failed": [{"image_id": image_id, "error": error} for image_id, error in plan.failed],
    }
    if as_json:
        print_json(outcome)
    else:
        click.echo(
            f"{plan.saved_images} images labelled, {plan.saved_annotations} annotations saved"
        )
        for name in plan.unmatched:
            click.echo(f"  not matched: {name}", err=True)
        for image_id, error in plan.failed:
            click.echo(f"  not saved: {image_id}: {error}", err=True)
    if plan.failed:
        sys.exit(SOME_FILES_FAILED)

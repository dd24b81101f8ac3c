"""``pictograph images assign-splits|split``: train/val/test splits, through ``client.images``."""

from __future__ import annotations

import click

from pictograph.cli.client_options import (
    Connection,
    connection_options,
    dataset_name,
    pass_connection,
)
from pictograph.cli.output import print_json

_PERCENT = click.IntRange(min=0, max=100)


@click.command("assign-splits")
@click.argument("dataset", callback=dataset_name)
@click.option("--train", type=_PERCENT, default=80, show_default=True, help="Percent to train.")
@click.option("--val", type=_PERCENT, default=10, show_default=True, help="Percent to val.")
@click.option("--test", type=_PERCENT, default=10, show_default=True, help="Percent to test.")
@click.option("--seed", type=int, default=42, show_default=True, help="The shuffle's seed.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@connection_options
@pass_connection
def assign_splits(
    connection: Connection, dataset: str, train: int, val: int, test: int, seed: int, as_json: bool
) -> None:
    """Split every image of DATASET into train/val/test by percentages.

    The same seed and the same images always give the same split; val and test take their
    floor, train the rest.

    \b
    Example:
      pictograph images assign-splits demo --train 80 --val 10 --test 10 --seed 7
    """
    with connection.client() as client:
        counts = client.images.assign_splits(dataset, train, val, test, seed)
    if as_json:
        print_json(counts)
        return
    click.echo(
        f"Split {counts['processed']} images: train {counts['train']}, val {counts['val']}, "
        f"test {counts['test']} (seed {seed})."
    )


@click.command("split")
@click.argument("dataset", callback=dataset_name)
@click.argument("image")
@click.argument("split", type=click.Choice(["train", "val", "test", "none"]))
@connection_options
@pass_connection
def set_split(connection: Connection, dataset: str, image: str, split: str) -> None:
    """Put IMAGE (``folder/filename``, a root filename or an id) in SPLIT; ``none`` clears it.

    \b
    Example:
      pictograph images split demo stop/001.jpg train
    """
    chosen = None if split == "none" else split
    with connection.client() as client:
        now = client.images.set_split(dataset, image.strip().lstrip("/"), chosen)  # type: ignore[arg-type]
    click.echo(f"{image} is now in {now or 'no split'}.")

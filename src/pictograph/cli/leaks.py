"""``pictograph leaks DATASET``: near-duplicate images in different splits (also checked by
``pictograph export --by-split`` before it exports)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from pictograph.cli.client_options import (
    Connection,
    connection_options,
    dataset_name,
    pass_connection,
)
from pictograph.cli.output import print_json

if TYPE_CHECKING:
    from pictograph.client import Client


def warn_of_leaks(client: Client, dataset: str, threshold: float) -> int:
    """Print each leaking pair to stderr; how many there are."""
    pairs = client.search.split_leaks(dataset, threshold=threshold)
    for pair in pairs:
        a, b = pair.images
        click.echo(
            f"leak: {a.path} ({a.split}) and {b.path} ({b.split}) are {pair.similarity:.0%} alike",
            err=True,
        )
    return len(pairs)


@click.command("leaks")
@click.argument("dataset", callback=dataset_name)
@click.option("--threshold", type=click.FloatRange(0.94, 1.0), default=0.95, show_default=True,
              help="How alike two images must be (0.94 to 1).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the pairs as JSON.")
@connection_options
@pass_connection
def leaks(connection: Connection, dataset: str, threshold: float, as_json: bool) -> None:
    """List near-duplicate images of DATASET that sit in different splits (images without a
    split count as train). Exit 0 either way.

    \b
    Example:
      pictograph leaks road-signs --threshold 0.97
    """
    with connection.client() as client:
        if as_json:
            found = client.search.split_leaks(dataset, threshold=threshold)
            print_json([pair.model_dump(mode="json") for pair in found])
            return
        count = warn_of_leaks(client, dataset, threshold)
    click.echo(f"{count} pair{'s' if count != 1 else ''} of near-duplicates across splits.")

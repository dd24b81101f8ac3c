"""``pictograph download DATASET FOLDER``: the download workflow with progress and a summary.

The workflow (``pictograph.workflows.download``) does the work: folder tree, skipping what is
already there, SHA-256 checks. This module shows its progress and its report.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pictograph.cli.client_options import Connection, connection_options, pass_connection
from pictograph.cli.exit_codes import SOME_FILES_FAILED
from pictograph.cli.output import human_seconds, print_json
from pictograph.cli.progress import progress_meter

if TYPE_CHECKING:
    from pictograph.workflows.download import DownloadReport


@click.command(short_help="Download a dataset as a local folder tree.")
@click.argument("dataset")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--workers",
    "-w",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Files in flight at once.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
@connection_options
@pass_connection
def download(
    connection: Connection, dataset: str, folder: Path, workers: int, as_json: bool, quiet: bool
) -> None:
    """Write every image of DATASET under FOLDER, one local folder per dataset folder.

    Files already there are skipped. Exit status 10 when some images failed.

    \b
    Example:
      pictograph download demo ./demo-copy
    """
    from pictograph.workflows.download import plan_download, run_download

    started = time.monotonic()
    with connection.client() as client:
        plan = plan_download(client, dataset, folder)
        meter_total = len(plan.targets)
        with progress_meter("download", meter_total, plan.total_bytes, enabled=not quiet) as meter:
            report = run_download(
                client,
                plan,
                max_workers=workers,
                progress=lambda done, _total, bytes_done, _bytes: meter.update(done, bytes_done),
            )
    if as_json:
        print_json(report_data(report))
    else:
        _show_summary(report, time.monotonic() - started)
    if report.failures:
        sys.exit(SOME_FILES_FAILED)


def report_data(report: DownloadReport) -> dict[str, Any]:
    """The report as JSON-ready data; ``success`` means nothing failed."""
    return {
        "dataset_name": report.dataset_name,
        "folder": str(report.folder),
        "images_listed": report.images_listed,
        "images_downloaded": report.images_downloaded,
        "images_skipped": report.images_skipped,
        "failures": [{"path": f.path, "reason": f.reason} for f in report.failures],
        "success": report.success,
    }


def _show_summary(report: DownloadReport, elapsed: float) -> None:
    click.echo(
        f"{report.dataset_name} -> {report.folder}: {report.images_downloaded} downloaded, "
        f"{report.images_skipped} skipped, {len(report.failures)} failed "
        f"of {report.images_listed} images in {human_seconds(elapsed)}"
    )
    if report.failures:
        click.echo("Failed:")
    for failure in report.failures:
        click.echo(f"  {failure.path}: {failure.reason}")

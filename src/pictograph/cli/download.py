"""``pictograph download DATASET FOLDER``: the dataset back as a local folder tree, resumably.

Each dataset folder becomes a local folder (root images at FOLDER's top). A file already there
with the image's size (and SHA-256, when the server knows it) is skipped, so re-running only
fetches what is missing or different. Downloads are checked against the SHA-256 on arrival.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from pictograph.cli.client_options import Connection, pass_connection
from pictograph.cli.exit_codes import SOME_FILES_FAILED
from pictograph.cli.local_tree import UnsafePathError, is_current, local_path, sha256_of
from pictograph.cli.output import dataset_path, human_seconds, print_json
from pictograph.cli.progress import Meter, progress_meter
from pictograph.client import Client
from pictograph.errors import ApiError, PictographError
from pictograph.models import Image


@dataclass
class FolderDownloadReport:
    """What a download did: counts per outcome and every failure (dataset path, reason)."""

    dataset_name: str
    folder: Path
    images_listed: int
    images_downloaded: int = 0
    images_skipped: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    def as_data(self) -> dict[str, Any]:
        """JSON-ready data; ``success`` means nothing failed."""
        return {
            "dataset_name": self.dataset_name,
            "folder": str(self.folder),
            "images_listed": self.images_listed,
            "images_downloaded": self.images_downloaded,
            "images_skipped": self.images_skipped,
            "failures": [{"path": path, "reason": reason} for path, reason in self.failures],
            "success": not self.failures,
        }


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
@pass_connection
def download(
    connection: Connection, dataset: str, folder: Path, workers: int, as_json: bool, quiet: bool
) -> None:
    """Write every image of DATASET under FOLDER, one local folder per dataset folder.

    Files already there are skipped. Exit status 10 when some images failed.
    """
    started = time.monotonic()
    with connection.client() as client:
        listed = client.images.iter(dataset, page_size=1000).all()
        folder.mkdir(parents=True, exist_ok=True)
        report = FolderDownloadReport(dataset, folder, len(listed))
        targets = _targets(report, listed)
        total_bytes = sum(image.file_size for image, _ in targets)
        with progress_meter("download", len(targets), total_bytes, enabled=not quiet) as meter:
            _download_all(client, report, targets, workers, meter)
    if as_json:
        print_json(report.as_data())
    else:
        _show_summary(report, time.monotonic() - started)
    if report.failures:
        sys.exit(SOME_FILES_FAILED)


def _targets(report: FolderDownloadReport, listed: list[Image]) -> list[tuple[Image, Path]]:
    """Each image's local path; unsafe paths and two images on one local path are failures."""
    claimed: dict[Path, str] = {}
    targets: list[tuple[Image, Path]] = []
    for image in listed:
        try:
            target = local_path(report.folder, image)
        except UnsafePathError as error:
            report.failures.append((_where(image), str(error)))
            continue
        if target in claimed:
            reason = f"same local file as {claimed[target]} once names are made safe; not written"
            report.failures.append((_where(image), reason))
            continue
        claimed[target] = _where(image)
        targets.append((image, target))
    return targets


def _download_all(
    client: Client,
    report: FolderDownloadReport,
    targets: list[tuple[Image, Path]],
    workers: int,
    meter: Meter,
) -> None:
    """Fetch in a pool; outcomes and progress are recorded here, on the calling thread."""
    done, bytes_done = 0, 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: dict[Future[bool], Image] = {
            pool.submit(_fetch, client, report.dataset_name, image, target): image
            for image, target in targets
        }
        for future in as_completed(pending):
            image = pending[future]
            try:
                fetched = future.result()
            except (PictographError, OSError, ValueError) as error:
                report.failures.append((_where(image), _reason(error)))
            else:
                report.images_downloaded += fetched
                report.images_skipped += not fetched
            done, bytes_done = done + 1, bytes_done + image.file_size
            meter.update(done, bytes_done)


def _fetch(client: Client, dataset: str, image: Image, target: Path) -> bool:
    """Download one image unless it is already there; True when bytes were fetched."""
    if is_current(target, image):
        return False
    client.images.download(dataset, _where(image).lstrip("/"), target)
    if image.sha256 is not None and sha256_of(target) != image.sha256.lower():
        target.unlink(missing_ok=True)
        raise ValueError("downloaded bytes do not match the image's SHA-256; removed")
    return True


def _where(image: Image) -> str:
    return dataset_path(image.directory_path, image.filename)


def _reason(error: BaseException) -> str:
    if isinstance(error, ApiError):
        return f"{error.message} (HTTP {error.status_code})"
    if isinstance(error, PictographError):
        return error.message
    if isinstance(error, OSError):
        return f"cannot write file: {error.strerror or error}"
    return str(error)


def _show_summary(report: FolderDownloadReport, elapsed: float) -> None:
    click.echo(
        f"{report.dataset_name} -> {report.folder}: {report.images_downloaded} downloaded, "
        f"{report.images_skipped} skipped, {len(report.failures)} failed "
        f"of {report.images_listed} images in {human_seconds(elapsed)}"
    )
    if report.failures:
        click.echo("Failed:")
    for path, reason in report.failures:
        click.echo(f"  {path}: {reason}")

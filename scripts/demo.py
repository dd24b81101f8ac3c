"""`make demo`: upload a generated road-signs folder on the embedded default, twice."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
from sample_folder import make_sample_folder

DEMO = Path(__file__).resolve().parent.parent / ".demo"


def show(console: Console, title: str, report: object) -> None:
    from pictograph.workflows import UploadReport

    assert isinstance(report, UploadReport)
    table = Table(title=title, show_header=False)
    for label, value in [
        ("dataset", report.dataset_name),
        ("attempted", report.images_attempted),
        ("uploaded", report.images_uploaded),
        ("skipped", report.images_skipped),
        ("failed", len(report.failures)),
        ("success", report.success),
    ]:
        table.add_row(label, str(value))
    console.print(table)
    for failure in report.failures:
        console.print(f"  [red]failed[/red] {failure.path}: {failure.reason}")


def main() -> None:
    console = Console()
    shutil.rmtree(DEMO, ignore_errors=True)
    folder = DEMO / "road_signs"
    os.environ["PICTOGRAPH_HOME"] = str(DEMO / "home")  # a fresh embedded store for each demo
    console.print(f"Generated {make_sample_folder(folder)} images in {folder}")

    from pictograph import Client
    from pictograph.workflows import upload_dataset_from_folder

    with Client() as client:
        console.print(f"Embedded store: {os.environ['PICTOGRAPH_HOME']} (no server, no key)")
        first = upload_dataset_from_folder(client, "road-signs", folder)
        show(console, "First run", first)
        second = upload_dataset_from_folder(client, "road-signs", folder)
        show(console, "Second run (idempotent)", second)
        console.print("(success is False on a re-run by specification: nothing new was uploaded)")
        console.print("Virtual folders:")
        for directory in client.directories.list("road-signs"):
            console.print(f"  {directory.full_path}: {directory.image_count} images")
    ok = (
        first.images_uploaded == first.images_attempted
        and second.images_skipped == first.images_uploaded
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

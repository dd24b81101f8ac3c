"""``pictograph upload FOLDER --dataset NAME``: a folder upload with progress and a closing summary.

The folder is planned once (``plan_folder``): the dry run shows that plan, and the upload hands
the same plan to the workflow (``pictograph.workflows.upload_folder``), which does the work. This
module adds byte counts for the progress meter (from the plan's file sizes, matched to the
workflow's per-file callback by filename), the report on stdout, and what landed when Ctrl-C
stops a run.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from pictograph.cli.client_options import (
    Connection,
    connection_options,
    dataset_name,
    pass_connection,
)
from pictograph.cli.exit_codes import SOME_FILES_FAILED
from pictograph.cli.output import folder_path, human_bytes, human_seconds, print_json, print_table
from pictograph.cli.progress import Stopwatch, progress_meter
from pictograph.errors import ConfigurationError

if TYPE_CHECKING:
    from pictograph._upload.folder_plan import FolderPlan
    from pictograph.workflows.upload import UploadReport

Layout = Literal["by-class", "flat", "preserve"]
LAYOUT_FLAGS: dict[Layout, str] = {
    "by-class": "--by-class",
    "flat": "--flat",
    "preserve": "--preserve-structure",
}


@dataclass(frozen=True)
class UploadOptions:
    """What the command line asked for, in the workflow's terms."""

    folder: Path
    dataset_name: str
    layout: Layout
    workers: int
    skip_existing: bool
    create_if_missing: bool
    replace_changed: bool = False

    def plan(self) -> FolderPlan:
        """The folder's plan; raises ``FileNotFoundError`` for a missing folder."""
        from pictograph._upload.folder_plan import plan_folder

        return plan_folder(
            self.folder,
            organize_by_class=self.layout == "by-class",
            preserve_structure=self.layout == "preserve",
        )


def chosen_layout(by_class: bool, flat: bool, preserve_structure: bool) -> Layout:
    """The one layout asked for (by class when none); ``ConfigurationError`` for two or more."""
    asked: list[tuple[Layout, bool]] = [
        ("by-class", by_class),
        ("flat", flat),
        ("preserve", preserve_structure),
    ]
    given = [layout for layout, on in asked if on]
    if len(given) > 1:
        flags = " and ".join(LAYOUT_FLAGS[layout] for layout in given)
        raise ConfigurationError(f"{flags} cannot be used together: choose one layout")
    return given[0] if given else "by-class"


@click.command(short_help="Upload a folder of images to a dataset.")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--dataset",
    "-d",
    "dataset_name",
    required=True,
    callback=dataset_name,
    help="Destination dataset.",
)
@click.option(
    "--by-class",
    is_flag=True,
    help="First-level folders become dataset folders; deeper ones collapse into them. [default]",
)
@click.option("--flat", is_flag=True, help="Every image lands in the root folder.")
@click.option("--preserve-structure", is_flag=True, help="Keep the whole folder tree.")
@click.option(
    "--workers",
    "-w",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Files in flight at once.",
)
@click.option("--no-skip-existing", is_flag=True, help="Names already there are failures.")
@click.option(
    "--replace-changed",
    is_flag=True,
    help="Files changed since they were uploaded replace the image at their name "
    "(deleted for good, with its labels; needs a key that may delete permanently).",
)
@click.option("--no-create", is_flag=True, help="Fail (exit 4) if the dataset does not exist.")
@click.option("--dry-run", is_flag=True, help="Print the plan; send nothing, create nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report (or plan) as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
@connection_options
@pass_connection
def upload(
    connection: Connection,
    folder: Path,
    dataset_name: str,
    by_class: bool,
    flat: bool,
    preserve_structure: bool,
    workers: int,
    no_skip_existing: bool,
    replace_changed: bool,
    no_create: bool,
    dry_run: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Upload every image under FOLDER to a dataset (created if missing).

    Exit status 0 when nothing failed, 10 when some files failed (each listed with its reason),
    4 when FOLDER holds no image at all (then no dataset is created).

    A file whose name is in the dataset with other content is listed as "changed, not
    uploaded" and left as it is there, unless --replace-changed.

    \b
    Example:
      pictograph upload ./road_signs --dataset road-signs --dry-run
    """
    options = UploadOptions(
        folder,
        dataset_name,
        chosen_layout(by_class, flat, preserve_structure),
        workers,
        not no_skip_existing,
        not no_create,
        replace_changed,
    )
    plan = options.plan()
    if dry_run:
        show_plan(plan, options, as_json=as_json)
        return
    if plan.total == 0:
        raise FileNotFoundError(
            f"no images in {str(folder)!r}{_unsupported_note(plan)}: nothing uploaded, "
            f"dataset {options.dataset_name!r} not touched"
        )
    stopwatch = Stopwatch()
    report = run_upload(connection, options, plan, show_progress=not quiet, stopwatch=stopwatch)
    if as_json:
        print_json(report_data(report, plan))
    else:
        show_summary(report, plan, stopwatch.stop())
    if report.failures:
        sys.exit(SOME_FILES_FAILED)


def run_upload(
    connection: Connection,
    options: UploadOptions,
    plan: FolderPlan,
    *,
    show_progress: bool,
    stopwatch: Stopwatch | None = None,
) -> UploadReport:
    """Run the workflow on ``plan`` with a progress meter fed from its per-file callback.

    On Ctrl-C, prints what landed (the files the server confirmed, requests in flight let
    finish) and what did not, then lets the interrupt end the command.
    """
    from pictograph.workflows.upload import UploadInterrupted, upload_folder

    ledger = ByteLedger.of(plan)
    with (
        connection.client() as client,
        progress_meter(
            "upload", plan.total, ledger.total, enabled=show_progress, stopwatch=stopwatch
        ) as meter,
    ):

        def on_file(done: int, total: int, filename: str | None) -> None:
            meter.update(done, ledger.take(filename))

        try:
            return upload_folder(
                client,
                options.dataset_name,
                plan,
                organize_by_class=options.layout == "by-class",
                preserve_structure=options.layout == "preserve",
                parallel=options.workers > 1,
                max_workers=options.workers,
                skip_existing=options.skip_existing,
                create_if_missing=options.create_if_missing,
                progress=on_file,
                replace_changed=options.replace_changed,
            )
        except UploadInterrupted as stop:
            show_interrupted(stop.report, plan.total, removed_dataset=stop.removed_dataset)
            raise


def show_interrupted(report: UploadReport, total: int, *, removed_dataset: bool) -> None:
    """The partial summary of an interrupted upload, on stdout like the full one: the files the
    server confirmed before the stop (with the answers of requests still in flight then)."""
    landed = report.images_uploaded
    click.echo(
        f"{report.dataset_name}: interrupted: {landed:,} new images landed in the dataset; "
        f"{max(total - landed, 0):,} of the {total:,} files did not land in this run"
    )
    if removed_dataset:
        click.echo(
            f"Dataset {report.dataset_name!r} was created by this run and nothing landed in "
            "it: it was deleted again."
        )
    click.echo("Run the same command again to send the rest: what is already there is skipped.")


@dataclass
class ByteLedger:
    """Bytes done so far, from the sizes of the files the workflow reports by name.

    Two files may share a name in different folders; each report takes one of that name's
    sizes, so the running total can be briefly off between them but always ends exact.
    """

    sizes: dict[str, list[int]] = field(default_factory=dict)
    total: int = 0
    done: int = 0

    @classmethod
    def of(cls, plan: FolderPlan) -> ByteLedger:
        ledger = cls()
        for problem in plan.problems:  # failures that send nothing count no bytes
            ledger.sizes.setdefault(problem.path.name, []).append(0)
        for planned in plan.files:
            size = _size_of(planned.path)
            ledger.sizes.setdefault(planned.path.name, []).append(size)
            ledger.total += size
        return ledger

    def take(self, filename: str | None) -> int:
        """Count one finished file of this name; return the bytes done so far."""
        pending = self.sizes.get(filename or "")
        if pending:
            self.done += pending.pop(0)
        return self.done


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def report_data(report: UploadReport, plan: FolderPlan) -> dict[str, Any]:
    """The report as JSON-ready data (``success`` as the SDK defines it).

    Paths are relative to the uploaded folder, as in the human summary.
    """
    return {
        "dataset_name": report.dataset_name,
        "images_attempted": report.images_attempted,
        "images_uploaded": report.images_uploaded,
        "images_skipped": report.images_skipped,
        "bytes_uploaded": report.bytes_uploaded,
        "changed": [_shown(path, plan.root) for path in report.changed],
        "replaced": [_shown(path, plan.root) for path in report.replaced],
        "failures": [
            {"path": _shown(f.path, plan.root), "reason": f.reason} for f in report.failures
        ],
        "quarantined_earlier": [
            {"path": _shown(f.path, plan.root), "reason": f.reason} for f in report.quarantined
        ],
        "ignored_unsupported": [_shown(path, plan.root) for path in plan.unsupported],
        "success": report.success,
    }


def show_summary(report: UploadReport, plan: FolderPlan, elapsed: float) -> None:
    """The closing summary: counts, files left behind; then, as rclone shows them, what was
    transferred (skipped files count no bytes), what was checked and found already there, and the
    elapsed time; then every failure with its reason."""
    click.echo(
        f"{report.dataset_name}: {report.images_uploaded} uploaded, "
        f"{report.images_skipped} skipped, {len(report.failures)} failed "
        f"of {report.images_attempted} files in {human_seconds(elapsed)}"
    )
    if plan.unsupported:
        click.echo(unsupported_line(plan))
    seconds = max(elapsed, 1e-6)
    sent, files = report.bytes_uploaded, report.images_uploaded
    click.echo(
        f"Transferred:   {human_bytes(sent)}, {files} files, "
        f"{human_bytes(sent / seconds)}/s, {files / seconds:.0f} files/s"
    )
    click.echo(f"Checks:        {report.images_skipped} files already there, not sent")
    if report.changed:
        click.echo(
            f"Changed:       {len(report.changed)} of them changed since they were uploaded, "
            "not uploaded (--replace-changed replaces them)"
        )
    if report.replaced:
        click.echo(f"Replaced:      {len(report.replaced)} changed files replaced their image")
    click.echo(f"Elapsed time:  {human_seconds(elapsed)}")
    if report.changed:
        click.echo("Changed, not uploaded:")
    for path in report.changed:
        click.echo(f"  {_shown(path, plan.root)}")
    if report.quarantined:
        click.echo("Quarantined by the server after an earlier upload:")
    for failure in report.quarantined:
        click.echo(f"  {_shown(failure.path, plan.root)}: {failure.reason}")
    if report.failures:
        click.echo("Failed:")
    for failure in report.failures:
        click.echo(f"  {_shown(failure.path, plan.root)}: {failure.reason}")


def unsupported_line(plan: FolderPlan) -> str:
    """``ignored: 2 files with unsupported extensions (.jfif, .txt)``."""
    count = len(plan.unsupported)
    suffixes = ", ".join(suffix or "no extension" for suffix in plan.unsupported_suffixes)
    noun = "file" if count == 1 else "files"
    kind = "extension" if len(plan.unsupported_suffixes) == 1 else "extensions"
    return f"ignored: {count} {noun} with unsupported {kind} ({suffixes})"


def _unsupported_note(plan: FolderPlan) -> str:
    return f" ({unsupported_line(plan)})" if plan.unsupported else ""


def show_plan(plan: FolderPlan, options: UploadOptions, *, as_json: bool) -> None:
    """The dry-run plan: files per dataset folder, ignored entries, problems. Sends nothing."""
    total_bytes = sum(_size_of(planned.path) for planned in plan.files)
    if as_json:
        print_json(_plan_data(plan, options, total_bytes))
        return
    click.echo(
        f"Dry run: nothing sent, dataset {options.dataset_name!r} not touched "
        f"({options.layout} layout)."
    )
    rows: list[tuple[str, object]] = [
        (folder_path(folder), count) for folder, count in plan.class_counts().items()
    ]
    if plan.problems:
        rows.append(("(problems, will fail)", len(plan.problems)))
    rows.append(("total", f"{plan.total} files ({human_bytes(total_bytes)})"))
    print_table(["dataset folder", "#files"], rows)
    if plan.unsupported:
        click.echo(unsupported_line(plan))
        for path in plan.unsupported:
            click.echo(f"  {_shown(path, plan.root)}")
    _show_paths(f"Ignored hidden entries: {len(plan.ignored)}", plan.ignored, plan.root)
    if plan.problems:
        click.echo(f"Problems (reported as failures): {len(plan.problems)}")
    for problem in plan.problems:
        click.echo(f"  {_shown(problem.path, plan.root)}: {problem.reason}")


def _plan_data(plan: FolderPlan, options: UploadOptions, total_bytes: int) -> dict[str, Any]:
    return {
        "dry_run": True,
        "dataset_name": options.dataset_name,
        "folder": str(plan.root),
        "layout": options.layout,
        "files": plan.total,
        "to_upload": len(plan.files),
        "bytes": total_bytes,
        "folders": {folder_path(k): v for k, v in plan.class_counts().items()},
        "ignored": [_shown(path, plan.root) for path in plan.ignored],
        "ignored_unsupported": [_shown(path, plan.root) for path in plan.unsupported],
        "problems": [
            {"path": _shown(p.path, plan.root), "reason": p.reason} for p in plan.problems
        ],
    }


def _show_paths(heading: str, paths: list[Path], root: Path) -> None:
    click.echo(heading)
    for path in paths:
        click.echo(f"  {_shown(path, root)}")


def _shown(path: Path, root: Path) -> str:
    """A local path relative to the uploaded folder when it is inside it."""
    try:
        return Path(os.path.relpath(path, root)).as_posix()
    except ValueError:  # another drive on Windows
        return str(path)

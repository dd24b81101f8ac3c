"""Entry point of the ``pictograph`` command: the group and its error handling."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from pictograph.cli.exit_codes import UPLOAD_HAD_FAILURES, exit_code_for
from pictograph.errors import PictographError


class _Group(click.Group):
    """Turns any Pictograph error, or a missing folder, into one line and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (PictographError, FileNotFoundError, ValueError) as error:
            message = getattr(error, "message", None) or str(error)
            click.echo(f"error: {message}", err=True)
            sys.exit(exit_code_for(error))


@click.group(cls=_Group)
@click.option("--api-key", envvar="PICTOGRAPH_API_KEY", help="API key for a served instance.")
@click.option("--base-url", envvar="PICTOGRAPH_BASE_URL", help="URL of a served instance.")
@click.option("--home", envvar="PICTOGRAPH_HOME", type=click.Path(path_type=Path))
@click.pass_context
def cli(ctx: click.Context, api_key: str | None, base_url: str | None, home: Path | None) -> None:
    """Pictograph: upload folders of images into datasets, and keep them there safely."""
    ctx.obj = {"api_key": api_key, "base_url": base_url, "home": home}


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--dataset", "dataset_name", required=True, help="Destination dataset.")
@click.option("--by-class/--flat", default=True, help="First-level folders become folders.")
@click.option("--preserve-structure", is_flag=True, help="Keep the whole folder tree.")
@click.option("--workers", default=8, show_default=True, help="Parallel uploads.")
@click.option("--no-skip-existing", is_flag=True, help="Report existing names as failures.")
@click.option("--no-create", is_flag=True, help="Fail if the dataset does not exist.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def upload(
    obj: dict[str, Any],
    folder: Path,
    dataset_name: str,
    by_class: bool,
    preserve_structure: bool,
    workers: int,
    no_skip_existing: bool,
    no_create: bool,
    as_json: bool,
) -> None:
    """Upload every image under FOLDER; exit status 10 when any file failed."""
    from pictograph.client import Client
    from pictograph.workflows.upload import _upload_folder

    with Client(obj["api_key"], base_url=obj["base_url"], home=obj["home"]) as client:
        report = _upload_folder(
            client,
            dataset_name,
            folder,
            organize_by_class=by_class,
            preserve_structure=preserve_structure,
            parallel=workers > 1,
            max_workers=max(1, workers),
            skip_existing=not no_skip_existing,
            create_if_missing=not no_create,
            progress=None,
        )
    if as_json:
        data = asdict(report) | {"success": report.success}
        click.echo(json.dumps(data, default=str, indent=2))
    else:
        click.echo(
            f"{report.dataset_name}: {report.images_uploaded} uploaded, "
            f"{report.images_skipped} skipped, {len(report.failures)} failed "
            f"of {report.images_attempted}"
        )
        for failure in report.failures:
            click.echo(f"  failed {failure.path}: {failure.reason}")
    if report.failures:
        sys.exit(UPLOAD_HAD_FAILURES)


def _register_server_commands() -> None:
    from pictograph.cli.serve import keys, serve

    cli.add_command(serve)
    cli.add_command(keys)


_register_server_commands()


def main() -> None:
    cli(prog_name="pictograph")

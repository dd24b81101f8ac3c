"""Entry point of the ``pictograph`` command: the group, its commands and its one error handler."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from pictograph.cli.client_options import Connection
from pictograph.cli.datasets import datasets
from pictograph.cli.download import download
from pictograph.cli.exit_codes import ERROR, OK, exit_code_for, message_for
from pictograph.cli.export import export
from pictograph.cli.images import images
from pictograph.cli.import_labels import import_labels
from pictograph.cli.serve import keys, serve
from pictograph.cli.upload import upload
from pictograph.errors import PictographError

#: Errors that end a command with one ``error: ...`` line and their exit code, no traceback.
HANDLED = (PictographError, OSError, ValueError, KeyboardInterrupt)


class _Group(click.Group):
    """Runs a command and turns whatever ended it into the documented exit status."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as error:
            error.show()
            sys.exit(exit_code_for(error))
        except click.Abort as error:  # click's form of Ctrl-C, and of "no" at a confirmation
            if isinstance(error.__cause__, KeyboardInterrupt):
                _fail(error.__cause__)
            _aborted()
        except HANDLED as error:
            _fail(error)
        sys.exit(result if isinstance(result, int) else OK)


def _fail(error: BaseException) -> NoReturn:
    click.echo(f"error: {message_for(error)}", err=True)
    sys.exit(exit_code_for(error))


def _aborted() -> NoReturn:
    click.echo("Aborted.", err=True)
    sys.exit(ERROR)


@click.group(cls=_Group)
@click.option("--api-key", envvar="PICTOGRAPH_API_KEY", help="API key for a served instance.")
@click.option("--base-url", envvar="PICTOGRAPH_BASE_URL", help="URL of a served instance.")
@click.option(
    "--home",
    envvar="PICTOGRAPH_HOME",
    type=click.Path(path_type=Path),
    help="Embedded store folder, when no server is set. [default: ~/.pictograph]",
)
@click.version_option(package_name="pictograph-selfhosted", prog_name="pictograph")
@click.pass_context
def cli(ctx: click.Context, api_key: str | None, base_url: str | None, home: Path | None) -> None:
    """Pictograph: upload folders of images into datasets, and keep them there safely.

    With no --base-url and --api-key (or PICTOGRAPH_BASE_URL and PICTOGRAPH_API_KEY) every
    command runs on the embedded store under --home, with no server.
    """
    ctx.obj = Connection(api_key=api_key, base_url=base_url, home=home)


for _command in (upload, download, datasets, images, serve, keys, export, import_labels):
    cli.add_command(_command)


def main() -> None:
    """The console script ``pictograph``."""
    cli(prog_name="pictograph")

"""Entry point of the ``pictograph`` command: the group, its commands and its one error handler.

Importing this module (``pictograph --version``, ``--help``) must stay cheap: command modules
import the SDK client, the models and the server only inside the commands that use them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from pictograph import __version__
from pictograph.cli.audit import audit
from pictograph.cli.client_options import Connection
from pictograph.cli.datasets import datasets
from pictograph.cli.download import download
from pictograph.cli.exit_codes import ERROR, OK, exit_code_for, message_for
from pictograph.cli.export import export
from pictograph.cli.gc import gc
from pictograph.cli.images import images
from pictograph.cli.import_labels import import_labels
from pictograph.cli.leaks import leaks
from pictograph.cli.migrate import migrate
from pictograph.cli.serve import keys, serve
from pictograph.cli.trash import trash
from pictograph.cli.upload import upload
from pictograph.cli.verify import verify
from pictograph.cli.versions import versions
from pictograph.errors import NetworkError, PictographError

#: Errors that end a command with one ``error: ...`` line and their exit code, no traceback.
HANDLED = (PictographError, OSError, ValueError, KeyboardInterrupt)

#: What ``pictograph`` alone prints: the three commands a newcomer needs.
START_HERE = """\
Pictograph: folders of images into datasets, on this machine or a server.

Start here:
  pictograph upload ./photos --dataset demo    upload a folder (class folders become folders)
  pictograph serve                             the API and the web gallery on port 8000
  pictograph download demo ./demo-copy         a dataset back as a folder tree

Every command: pictograph --help"""


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

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NetworkError as error:
            connection = ctx.find_object(Connection) or Connection()
            raise type(error)(unreachable(connection, error)) from error


def unreachable(connection: Connection, error: NetworkError) -> str:
    """One line naming the server that did not answer and what to check."""
    cause = error.__cause__
    why = str(cause) if cause is not None and str(cause) else type(cause or error).__name__
    return (
        f"no answer from {connection.server or 'the server'} after retrying ({why}): "
        "check --base-url and that the server is running"
    )


def _fail(error: BaseException) -> NoReturn:
    click.echo(f"error: {message_for(error)}", err=True)
    sys.exit(exit_code_for(error))


def _aborted() -> NoReturn:
    click.echo("Aborted.", err=True)
    sys.exit(ERROR)


@click.group(cls=_Group, invoke_without_command=True)
@click.option("--api-key", envvar="PICTOGRAPH_API_KEY", help="API key for a served instance.")
@click.option("--base-url", envvar="PICTOGRAPH_BASE_URL", help="URL of a served instance.")
@click.option(
    "--home",
    envvar="PICTOGRAPH_HOME",
    type=click.Path(path_type=Path),
    help="Store folder (embedded commands, serve, keys). [default: ~/.pictograph]",
)
@click.version_option(__version__, prog_name="pictograph")
@click.pass_context
def cli(ctx: click.Context, api_key: str | None, base_url: str | None, home: Path | None) -> None:
    """Pictograph: upload folders of images into datasets, and keep them there safely.

    With no --base-url and --api-key (or PICTOGRAPH_BASE_URL and PICTOGRAPH_API_KEY) every
    command runs on the embedded store under --home, with no server. These three options go
    before the command, or after it.

    \b
    Example:
      pictograph upload ./photos --dataset demo
    """
    ctx.obj = Connection(api_key=api_key, base_url=base_url, home=home)
    if ctx.invoked_subcommand is None:
        click.echo(START_HERE)


for _command in (
    upload,
    download,
    datasets,
    images,
    trash,
    export,
    import_labels,
    verify,
    serve,
    keys,
    migrate,
    gc,
    audit,
    versions,
    leaks,
):
    cli.add_command(_command)


def main() -> None:
    """The console script ``pictograph``."""
    cli(prog_name="pictograph")

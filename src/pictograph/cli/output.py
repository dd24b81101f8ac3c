"""Shared rendering of the client commands: JSON on stdout, tables, sizes and durations."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import click

from pictograph.sizes import human_bytes

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "folder_path",
    "human_bytes",
    "human_seconds",
    "limit_note",
    "print_json",
    "print_table",
    "without_embedded_urls",
]

#: Width of tables when stdout is a pipe or a file, where rich would otherwise wrap at 80.
PIPE_WIDTH = 160


def print_json(data: Any) -> None:
    """``data`` as indented JSON on stdout (datetimes and paths as strings)."""
    click.echo(json.dumps(data, indent=2, default=str))


def stdout_console() -> Console:
    """A rich console on the current stdout (the one click's test runner captures)."""
    from rich.console import Console

    console = Console(file=sys.stdout, highlight=False)
    if not console.is_terminal:
        console.width = PIPE_WIDTH
    return console


def print_table(
    columns: Sequence[str], rows: Iterable[Sequence[object]], *, title: str | None = None
) -> None:
    """A table on stdout; columns whose name starts with ``#`` are right-aligned numbers."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for column in columns:
        numeric = column.startswith("#")
        table.add_column(column.lstrip("#"), justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    stdout_console().print(table)


def human_seconds(seconds: float) -> str:
    """``75.2`` as ``1m15s``; under a minute as ``4.2s``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{rest:02d}s"


def folder_path(directory_path: str | None) -> str:
    """A dataset folder as shown to people: ``/`` for the root, never empty."""
    return directory_path or "/"


def limit_note(shown: int, total: int | None) -> str | None:
    """``100 of 2,000 shown; --limit N or --all`` when a list stopped short, else None."""
    if total is None or shown >= total:
        return None
    return f"{shown:,} of {total:,} shown; --limit N or --all"


def without_embedded_urls(data: Any, embedded_base_url: str) -> Any:
    """``data`` with every URL on the embedded client's host (which does not exist) as None."""
    if isinstance(data, dict):
        return {k: without_embedded_urls(v, embedded_base_url) for k, v in data.items()}
    if isinstance(data, list):
        return [without_embedded_urls(item, embedded_base_url) for item in data]
    if isinstance(data, str) and data.startswith(embedded_base_url):
        return None
    return data

"""Shared rendering of the client commands: JSON on stdout, tables, sizes and durations."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table

#: Width of tables when stdout is a pipe or a file, where rich would otherwise wrap at 80.
PIPE_WIDTH = 160


def print_json(data: Any) -> None:
    """``data`` as indented JSON on stdout (datetimes and paths as strings)."""
    click.echo(json.dumps(data, indent=2, default=str))


def stdout_console() -> Console:
    """A rich console on the current stdout (the one click's test runner captures)."""
    console = Console(file=sys.stdout, highlight=False)
    if not console.is_terminal:
        console.width = PIPE_WIDTH
    return console


def print_table(
    columns: Sequence[str], rows: Iterable[Sequence[object]], *, title: str | None = None
) -> None:
    """A table on stdout; columns whose name starts with ``#`` are right-aligned numbers."""
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for column in columns:
        numeric = column.startswith("#")
        table.add_column(column.lstrip("#"), justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    stdout_console().print(table)


def human_bytes(count: float) -> str:
    """``1234567`` as ``1.2 MB`` (decimal units, as rich's progress shows them)."""
    if abs(count) < 1000:
        return f"{count:.0f} B"
    for unit in ("kB", "MB", "GB"):
        count /= 1000
        if abs(count) < 1000:
            return f"{count:.1f} {unit}"
    return f"{count / 1000:.1f} TB"


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


def dataset_path(directory_path: str | None, filename: str) -> str:
    """``/stop/001.jpg``: where an image sits in its dataset."""
    return f"{folder_path(directory_path).rstrip('/')}/{filename}"

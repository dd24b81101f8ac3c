"""The live progress bar on a terminal (rich), imported only when one is shown."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from pictograph.sizes import files_rate, human_bytes


class _FilesPerSecond(ProgressColumn):
    """Files a second since the start (rich's own speed column measures a moving window)."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        return Text(files_rate(task.completed / elapsed if elapsed > 0 else 0.0))


class _Bytes(ProgressColumn):
    """``1.2 MB of 3.0 MB``: the bytes of the files done, in the units used everywhere."""

    def render(self, task: Task) -> Text:
        done, total = task.fields["bytes"], task.fields["total_bytes"]
        return Text(f"{human_bytes(done)} of {human_bytes(total)}")


class LiveBar:
    """A rich progress bar on the terminal, measuring files; bytes are shown beside it."""

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self.progress, self.task = progress, task

    def update(self, files_done: int, bytes_done: int) -> None:
        self.progress.update(self.task, completed=files_done, bytes=bytes_done)


@contextmanager
def live_bar(console: Console, label: str, total_files: int, total_bytes: int) -> Iterator[LiveBar]:
    """A bar on ``console`` for the length of the block."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f} files"),
        _Bytes(),
        _FilesPerSecond(),
        TimeRemainingColumn(),
        console=console,
    )
    with progress:
        task = progress.add_task(label, total=total_files, bytes=0, total_bytes=total_bytes)
        yield LiveBar(progress, task)
